"""MPI helpers of the original DosNa (dosna/util/mpi.py): mpi_comm,
mpi_rank, mpi_size, mpi_barrier, mpi_root / mpi_is_root, pprint, MpiTimer,
MpiMixin.

Rank, size and barrier come from the mpi engine's world communicator when the
mpi engine is built (mpi4py is then not needed), else from mpi4py when it is
installed, else a single process (rank 0 of 1). mpi4py is imported only when
asked for, so `import dosna` never initialises MPI by itself (the original
imports it with this module).
"""

import math
import time

from .. import _dosna, engines, status  # noqa: F401  (status: the original imports it here)


def _use_engine():
    return 'mpi' in engines.AVAILABLE


def _mpi4py():
    try:
        from mpi4py import MPI
    except ImportError:
        return None
    return MPI


class OneProcessComm(object):
    """What mpi_comm() gives a single process when mpi4py is not installed:
    the mpi4py.MPI.Comm calls the original's scripts make, for rank 0 of 1."""

    def Get_rank(self):  # noqa: N802  (mpi4py's names)
        return 0

    def Get_size(self):  # noqa: N802
        return 1

    def Barrier(self):  # noqa: N802
        return None

    barrier = Barrier

    def bcast(self, obj, root=0):
        return obj

    def gather(self, obj, root=0):
        return [obj]

    def allgather(self, obj):
        return [obj]


def mpi_comm():
    """The communicator: the `comm` engine option if set, else mpi4py's
    COMM_WORLD, else (mpi4py not installed) a OneProcessComm when this is a
    single process. Raises NotSupportedError on several ranks without mpi4py."""
    comm = engines.get_engine().params.get('comm')
    if comm is not None:
        return comm
    MPI = _mpi4py()
    if MPI is not None:
        return MPI.COMM_WORLD
    if _use_engine() and _dosna.mpi_world_size() > 1:
        raise _dosna.NotSupportedError(
            'mpi_comm(): {} MPI ranks but mpi4py is not installed (python3-mpi4py)'
            .format(_dosna.mpi_world_size()))
    return OneProcessComm()


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
    """print() prefixed with the rank, ``|RANK)`` (padded to the digits of
    the last rank); `rank=` prints on that rank only."""
    rank = kwargs.pop('rank', None)
    comm = kwargs.pop('comm', None)
    me = mpi_rank(comm)
    if rank is None or rank == me:
        width = int(math.ceil(math.log10(mpi_size(comm))))
        print('|{0:{1}d})'.format(me, width) if width else '|{})'.format(me), *args, **kwargs)


class MpiTimer(object):
    """A context manager timing its block on every rank: on exit it waits
    for all ranks (barrier), sets `time` (seconds; `tstart`, `tend` the clock
    readings) and prints ``|R) NAME -- Elapsed: S seconds`` on rank `rank`."""

    def __init__(self, name='Timer', rank=0):
        self.name = name
        self.tstart = -1
        self.tend = -1
        self.time = 0
        self.rank = rank

    def __enter__(self):
        self.tstart = time.time()
        return self

    def __exit__(self, *args):
        mpi_barrier()
        self.tend = time.time()
        self.time = self.tend - self.tstart
        pprint('%s -- Elapsed: %.4f seconds' % (self.name, self.time), rank=self.rank)


class MpiMixin(object):
    """Gives an object `mpi_comm`, `mpi_size`, `mpi_rank`, `mpi_is_root`
    and `mpi_barrier()` of the communicator `mpi_comm_` (an mpi4py Comm)."""

    def __init__(self, mpi_comm_):
        self.mpi_comm = mpi_comm_
        self.mpi_size = self.mpi_comm.Get_size()
        self.mpi_rank = self.mpi_comm.Get_rank()
        self.mpi_is_root = self.mpi_rank == 0

    def mpi_barrier(self):
        self.mpi_comm.Barrier()
