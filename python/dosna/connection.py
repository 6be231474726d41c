"""dosna.Connection: the entry point, following the current dn.use() selection."""

import functools
import json

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


# The options that positional arguments after `name` stand for, in the
# original's order: its mpi engine's connection takes (name, comm), every
# other engine hands them to the backend's connection class.
POSITIONAL_OPTIONS = {
    'ram': ('open_mode',),
    'hdf5': ('directory', 'open_mode'),
    'ceph': ('conffile', 'timeout', 'client_id', 'open_mode'),
    's3': ('endpoint_url', 'verify', 'profile_name', 'open_mode'),
    'sage': ('conffile', 'prefix_conffile', 'open_mode'),
}
MPI_POSITIONAL_OPTIONS = ('comm',)


def _positional_options(backend, engine, args):
    names = (MPI_POSITIONAL_OPTIONS if _dosna.canonical_engine_name(engine) == 'mpi'
             else POSITIONAL_OPTIONS.get(backend, ('open_mode',)))
    if len(args) > len(names):
        raise TypeError('Connection: {} positional options given after the name; backend {} '
                        'with engine {} takes at most {} ({})'.format(
                            len(args), backend, engine, len(names), ', '.join(names)))
    return dict(zip(names, args))


class Connection(_dosna.Connection):
    """A connection to one store (`name` is the pool, directory or label).

    Keyword options are the selected backend's (ram: none; hdf5: directory;
    ceph: conffile, timeout, client_id; s3: endpoint_url, verify,
    profile_name) and the selected engine's (jl/threads: njobs, jlbackend;
    mpi: comm); positional ones after `name` are taken in the original's
    order (POSITIONAL_OPTIONS). ``backend=`` and ``engine=`` override the
    dn.use() selection for this connection. Not connected until connect()
    or ``with``. An option given twice raises TypeError.
    """

    def __init__(self, name, *args, **options):
        constructed = False
        try:
            self._init(name, args, options)
            constructed = True
        finally:
            if not constructed:
                # A Connection that failed to construct still reaches
                # tracebacks and debuggers (repr, attribute access): give it
                # a valid, unconnected C++ side instead of none at all.
                super().__init__('(not constructed)')

    def _init(self, name, args, options):
        backend, engine = options.pop('backend', None), options.pop('engine', None)
        bsel = backends.get_backend() if backend is None else backends.Backend(backend)
        esel = engines.get_engine() if engine is None else engines.Engine(engine)
        positional = _positional_options(bsel.name, esel.name, args)
        twice = sorted(set(positional) & set(options))
        if twice:
            raise TypeError('Connection: option {} given both by position and by keyword'
                            .format(', '.join(twice)))
        options.update(positional)
        open_mode = options.pop('open_mode', 'a')
        merged = dict(bsel.params)
        merged.update(esel.params)
        merged.update(options)
        backend_opts, engine_opts = _split_options(merged)
        super().__init__(str(name), bsel.name, _dosna.canonical_engine_name(esel.name),
                         backend_opts, engine_opts, open_mode)

    @property
    def instance(self):
        """The original's engine wrappers hold the backend's connection here;
        one object is both in this DosNa."""
        return self

    @property
    def mpi_comm(self):
        """The communicator (dosna.util.mpi.mpi_comm())."""
        from .util import mpi
        return mpi.mpi_comm()

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
                       chunk_size=None, format=None, compression=None, compression_level=None,
                       shard_shape=None, codecs=None):
        """Creates a dataset: give `shape` (+ `dtype`) or `data` (its shape and
        dtype are used and it is loaded). ``chunk_size=None`` is one chunk.
        `format`: None (the connection's default, option format=), 'dosna',
        'zarr3' or 'zarr2'; zarr only: `compression` ('zstd', 'gzip',
        'blosc-lz4', 'blosc-zstd' or None), `compression_level`,
        `shard_shape` (zarr3; chunk_size is then the inner chunk), `codecs`
        (zarr3: a full v3 codec list, replaces compression).
        Raises AlreadyExistsError if `name` exists, ValueError for zarr
        options on format 'dosna', NotSupportedError for an unknown codec."""
        storage = _storage_args(format, compression, compression_level, shard_shape, codecs)
        if data is not None:
            if not isinstance(data, np.ndarray):
                data = np.asarray(data)
            if shape is not None and tuple(shape) != data.shape:
                raise ValueError('create_dataset({!r}): shape {} does not match data shape {}'
                                 .format(name, tuple(shape), data.shape))
            dt = data.dtype
            if not dt.isnative:
                dt = dt.newbyteorder('=')
            return self._create_dataset(name, None, dt, fillvalue, data, chunk_size, storage)
        if shape is None:
            raise ValueError('create_dataset({!r}): give shape or data'.format(name))
        return self._create_dataset(name, shape, dtype, fillvalue, None, chunk_size, storage)

    def copy_dataset(self, src, name=None, chunk_size=None, format=None, compression=None,
                     compression_level=None, shard_shape=None, codecs=None,
                     max_bytes_in_flight=None, progress=None):
        """Copies dataset `src` (of any connection) into this store as `name`
        (default: src's name) with src's shape, dtype and fill value, in the
        layout the keywords ask for (as create_dataset; `chunk_size` None =
        src's, another rechunks). Chunks never written stay absent. At most
        `max_bytes_in_flight` chunk bytes are held at once (default 256 MiB);
        `progress(done_bytes, total_bytes)` is called as it goes, last with
        done == total. Returns the new dataset. Raises AlreadyExistsError
        before writing anything if `name` exists; after a failed write the
        partial copy is deleted. Runs in this process (under MPI, on one
        rank)."""
        storage = _storage_args(format, compression, compression_level, shard_shape, codecs)
        return self._copy_dataset(src, src.name if name is None else name, chunk_size, storage,
                                  max_bytes_in_flight, progress)


def _storage_args(format, compression, compression_level, shard_shape, codecs):
    """The layout keywords given (not None), as _dosna takes them."""
    storage = {k: v for k, v in (('format', format), ('compression', compression),
                                 ('compression_level', compression_level),
                                 ('shard_shape', shard_shape)) if v is not None}
    if codecs is not None:
        storage['codecs'] = codecs if isinstance(codecs, str) else json.dumps(codecs)
    return storage


def copy_dataset(src, dst, name=None, **options):
    """Connection.copy_dataset as a function: copies dataset `src` into the
    connection `dst`."""
    return dst.copy_dataset(src, name, **options)


# The seed README writes `with dn.connection('name') as con:`.
connection = Connection


def open_uri(uri, engine=None, **options):
    """The store a URI names (``ram://name``, ``hdf5:///dir/name``,
    ``ceph://pool?conffile=...``, ``s3://label?endpoint_url=...``; see
    include/dosna/store_uri.h), connected. Keyword options are added to the
    URI's query options (overriding a key given in both); engine options
    (njobs, ...) go to the engine, which is the dn.use() selection unless
    ``engine=`` names one. Raises InvalidArgument for a bad URI."""
    backend, name, uri_options = _dosna.parse_store_uri(str(uri))
    merged = dict(uri_options)
    merged.update(options)
    con = Connection(name, backend=backend, engine=engine, **merged)
    con.connect()
    return con


@functools.lru_cache(maxsize=None)
def bound_connection(class_name, backend=None, engine=None):
    """A Connection class that always uses `backend` and/or `engine`: the
    original's per-backend (CephConnection, ...) and per-engine
    (CpuConnection, ...) connection classes. Positional options after the
    name follow that backend's / engine's order."""
    fixed = {k: v for k, v in (('backend', backend), ('engine', engine)) if v is not None}

    def __init__(self, name, *args, **options):
        for key, value in fixed.items():
            if options.get(key, value) != value:
                raise ValueError('{}: {}={!r}, but this class is the {} {}'.format(
                    class_name, key, options[key], value, key))
        options.update(fixed)
        Connection.__init__(self, name, *args, **options)

    return type(class_name, (Connection,), {
        '__init__': __init__,
        '__doc__': 'dosna.Connection on {}.'.format(
            ', '.join('{} {}'.format(k, v) for k, v in fixed.items())),
    })
