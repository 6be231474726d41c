"""DosNa: N-dimensional arrays stored as chunks in object stores.

A binding of the DosNa C++ library with the original Python DosNa API::

    import dosna as dn
    dn.use(backend='hdf5', engine='jl', engine_kw={'njobs': 4})
    with dn.Connection('tutorial', directory='/data') as con:
        ds = con.create_dataset('data', data=array, chunk_size=(32, 32, 32))
        print(ds[0, 0, :10])

Threads and the GIL: storage I/O (reads, writes, load, clear, connect, ...)
runs with the GIL released, so other Python threads keep running and the
`threads` (`jl`/`joblib`) engine copies chunks in parallel. The Python
callables given to ``Dataset.map`` and ``Dataset.apply`` are different: each
call re-acquires the GIL, so under the threads engine the callables run one
at a time (chunk I/O around them still overlaps). They never deadlock: the
calling thread releases the GIL while it waits for the workers. numpy
functions that release the GIL themselves (most ufuncs on large arrays,
scipy.ndimage filters) do run concurrently.
"""

import collections as _collections

from . import _dosna
from ._dosna import (AlreadyExistsError, ConnectionError, DataChunk, Dataset,  # noqa: F401
                     DatasetNotFoundError, DosnaError, IndexOutOfRangeError,
                     InvalidArgumentError, IoError, NotBuiltError, NotFoundError,
                     NotSupportedError, OutOfMemoryError, PermissionDeniedError)
from . import backends, engines  # noqa: F401
from .connection import Connection, connection  # noqa: F401

__all__ = ['use', 'status', 'compatible', 'Connection', 'connection', 'Dataset',
           'DataChunk', 'DatasetNotFoundError', 'backends', 'engines']

Status = _collections.namedtuple('Status', ['engine', 'backend'])


def use(backend=None, engine=None, engine_kw=None, backend_kw=None, **kwargs):
    """Selects the backend and/or engine of Connections created from now on.

    ``engine_kw`` are default engine options (e.g. ``{'njobs': 4}``);
    ``backend_kw`` (or extra keyword arguments) default backend options.
    An unknown name raises ValueError listing the available ones; a known
    name this build lacks raises NotBuiltError.
    """
    if backend is not None:
        backends.use_backend(backend, **dict(backend_kw or {}, **kwargs))
    elif backend_kw or kwargs:
        backends.get_backend().params.update(dict(backend_kw or {}, **kwargs))
    if engine is not None:
        engines.use_engine(engine, **(engine_kw or {}))
    elif engine_kw:
        engines.get_engine().params.update(engine_kw)


def status():
    """The current selection: a named tuple (engine, backend); each has
    ``.name`` and ``.params`` (the default options)."""
    return Status(engines.get_engine(), backends.get_backend())


def compatible(backend, engine):
    """Whether `backend` can be used with `engine` (ram x mpi cannot: every
    rank would have its own private store)."""
    backend = str(backend).lower()
    engine = _dosna.canonical_engine_name(str(engine).lower())
    if backend == 'ram' and engine == 'mpi':
        return False
    return True


def mpi_size():
    from .util import mpi
    return mpi.mpi_size()


def mpi_rank():
    from .util import mpi
    return mpi.mpi_rank()


def mpi_is_root():
    from .util import mpi
    return mpi.mpi_root()
