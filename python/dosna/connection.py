"""dosna.Connection: the entry point, following the current dn.use() selection."""

import numpy as np

from . import _dosna, backends, engines

# Options that belong to the engine; every other keyword goes to the backend.
ENGINE_OPTIONS = frozenset(['njobs', 'jlbackend', 'comm'])


def _option_text(key, value):
    if isinstance(value, (bool, np.bool_)):
        return 'true' if value else 'false'
    if key == 'comm':
        return _comm_text(value)
    return str(value)


def _comm_text(comm):
    """An mpi4py communicator as its Fortran handle (what the mpi engine's
    `comm` option takes); None for the world communicator."""
    try:
        from mpi4py import MPI
    except ImportError:
        return str(comm)
    if isinstance(comm, MPI.Comm):
        if MPI.Comm.Compare(comm, MPI.COMM_WORLD) == MPI.IDENT:
            return None
        return str(comm.py2f())
    return str(comm)


def _split_options(options):
    backend_opts, engine_opts = {}, {}
    for key, value in options.items():
        target = engine_opts if key in ENGINE_OPTIONS else backend_opts
        if value is None:
            continue
        text = _option_text(key, value)
        if text is not None:
            target[key] = text
    return backend_opts, engine_opts


class Connection(_dosna.Connection):
    """A connection to one store (`name` is the pool, directory or label).

    Keyword options are the selected backend's (ram: none; hdf5: directory;
    ceph: conffile, timeout, client_id; s3: endpoint_url, verify,
    profile_name) and the selected engine's (jl/threads: njobs, jlbackend;
    mpi: comm). ``backend=`` and ``engine=`` override the dn.use() selection
    for this connection. Not connected until connect() or ``with``.
    """

    def __init__(self, name, open_mode='a', backend=None, engine=None, **options):
        bsel = backends.get_backend() if backend is None else backends.Backend(backend)
        esel = engines.get_engine() if engine is None else engines.Engine(engine)
        merged = dict(bsel.params)
        merged.update(esel.params)
        merged.update(options)
        backend_opts, engine_opts = _split_options(merged)
        super().__init__(str(name), bsel.name, _dosna.canonical_engine_name(esel.name),
                         backend_opts, engine_opts, open_mode)

    def __enter__(self):
        if not self.connected:
            self.connect()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if self.connected:
            self.disconnect()

    def __repr__(self):
        return '<dosna.Connection {!r} backend={} engine={}{}>'.format(
            self.name, self.backend, self.engine, '' if self.connected else ' (closed)')

    def create_dataset(self, name, shape=None, dtype=np.float32, fillvalue=0, data=None,
                       chunk_size=None):
        """Creates a dataset: give `shape` (+ `dtype`) or `data` (its shape and
        dtype are used and it is loaded). ``chunk_size=None`` is one chunk.
        Raises AlreadyExistsError if `name` exists."""
        if data is not None:
            if not isinstance(data, np.ndarray):
                data = np.asarray(data)
            if shape is not None and tuple(shape) != data.shape:
                raise ValueError('create_dataset({!r}): shape {} does not match data shape {}'
                                 .format(name, tuple(shape), data.shape))
            dt = data.dtype
            if not dt.isnative:
                dt = dt.newbyteorder('=')
            return self._create_dataset(name, None, dt, fillvalue, data, chunk_size)
        if shape is None:
            raise ValueError('create_dataset({!r}): give shape or data'.format(name))
        return self._create_dataset(name, shape, dtype, fillvalue, None, chunk_size)


# The seed README writes `with dn.connection('name') as con:`.
connection = Connection
