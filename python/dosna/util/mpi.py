"""MPI helpers of the original DosNa.

Rank, size and barrier come from the mpi engine's world communicator when the
mpi engine is built (mpi4py is then not needed), else from mpi4py when it is
installed, else a single process (rank 0 of 1). mpi4py is imported only when
asked for, so `import dosna` never initialises MPI by itself.
"""

from .. import _dosna, engines


def _use_engine():
    return 'mpi' in engines.AVAILABLE


def _mpi4py():
    try:
        from mpi4py import MPI
    except ImportError:
        return None
    return MPI


def mpi_comm():
    """The communicator: the `comm` engine option if set, else mpi4py's
    COMM_WORLD; None when mpi4py is not installed."""
    comm = engines.get_engine().params.get('comm')
    if comm is not None:
        return comm
    MPI = _mpi4py()
    return MPI.COMM_WORLD if MPI is not None else None


def _explicit(comm):
    return comm if comm is not None else engines.get_engine().params.get('comm')


def mpi_rank(comm=None):
    comm = _explicit(comm)
    if comm is not None:
        return comm.Get_rank()
    if _use_engine():
        return _dosna.mpi_world_rank()
    MPI = _mpi4py()
    return MPI.COMM_WORLD.Get_rank() if MPI is not None else 0


def mpi_size(comm=None):
    comm = _explicit(comm)
    if comm is not None:
        return comm.Get_size()
    if _use_engine():
        return _dosna.mpi_world_size()
    MPI = _mpi4py()
    return MPI.COMM_WORLD.Get_size() if MPI is not None else 1


def mpi_root(comm=None):
    """Whether this process is the root rank (0)."""
    return mpi_rank(comm) == 0


mpi_is_root = mpi_root


def mpi_barrier(comm=None):
    comm = _explicit(comm)
    if comm is not None:
        return comm.Barrier()
    if _use_engine():
        return _dosna.mpi_world_barrier()
    MPI = _mpi4py()
    if MPI is not None:
        MPI.COMM_WORLD.Barrier()
    return None


def pprint(*args, **kwargs):
    """print() prefixed with the rank; `rank=` prints on that rank only."""
    rank = kwargs.pop('rank', None)
    comm = kwargs.pop('comm', None)
    me = mpi_rank(comm)
    if rank is None or rank == me:
        print('|{})'.format(me), *args, **kwargs)
