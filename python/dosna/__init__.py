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
import logging as _logging

from . import _dosna
from ._dosna import (AlreadyExistsError, ConnectionError, DataChunk, Dataset,  # noqa: F401
                     DatasetNotFoundError, DosnaError, DosnaWarning, IndexOutOfRangeError,
                     InvalidArgumentError, IoError, NotBuiltError, NotFoundError,
                     NotSupportedError, OutOfMemoryError, PermissionDeniedError)
from . import backends, engines  # noqa: F401
from .backends import get_backend, use_backend  # noqa: F401
from .connection import Connection, connection, copy_dataset  # noqa: F401
from .connection import open_uri as open  # noqa: F401,A001
from .engines import get_engine, use_engine  # noqa: F401
from . import _original_attributes  # noqa: F401,E402
from . import attributes as _attributes  # noqa: F401,E402
from . import pickling as _pickling

_pickling.install()

__all__ = ['use', 'status', 'compatible', 'open', 'Connection', 'connection', 'Dataset',
           'DataChunk', 'DatasetNotFoundError', 'backends', 'engines']

log = _logging.getLogger(__name__)

Status = _collections.namedtuple('Status', ['engine', 'backend'])


def use(engine=None, backend=None, engine_kw=None, backend_kw=None, **kwargs):
    """Selects the engine and/or backend of Connections created from now on
    (positionally engine first, as in the original: ``dn.use('cpu', 'ram')``).

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


def status(show=False):
    """The current selection: a named tuple (engine, backend); each has
    ``.name`` and ``.params`` (the default options). ``show=True`` also logs
    them at INFO level, as the original does."""
    engine, backend = engines.get_engine(), backends.get_backend()
    if show:
        log.info('---------------------------')
        log.info('Current Engine: %s', engine.name)
        log.info('Current Backend: %s', backend.name)
        log.info('---------------------------')
    return Status(engine, backend)


def _selection_name(x):
    return str(getattr(x, 'name', x)).lower()


def compatible(engine, backend):
    """Whether `engine` can be used with `backend` (ram x mpi cannot: every
    rank would have its own private store). Either may be a name or what
    dn.status() returns, in either order (the original takes (engine,
    backend) selections, earlier versions of this module (backend, engine)
    names)."""
    first, second = _selection_name(engine), _selection_name(backend)
    if first in backends.KNOWN or first == 'memory':
        first, second = second, first
    if second == 'memory':
        second = 'ram'
    if (second in backends.KNOWN and not _dosna.backend_is_shared(second)
            and _dosna.canonical_engine_name(first) == 'mpi'):
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
