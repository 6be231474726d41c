"""The names the original's per-backend modules (dosna.backends.ram, .hdf5,
.ceph, .s3, .sage) and per-engine modules (dosna.engines.cpu, .jl, .mpi)
export, on this DosNa's single Connection / Dataset / DataChunk: the
module's Connection class is dosna.Connection bound to that backend or
engine (positional options after the name in the original's order), its
Dataset / DataChunk classes are dosna.Dataset / dosna.DataChunk. Each
module also re-exports what the original's imported from the rest of dosna.
"""

import logging

from . import _dosna
from .connection import bound_connection


def backend_module_names(module, backend, prefix):
    """The namespace of the original's dosna.backends.<backend> (classes
    <prefix>Connection, <prefix>Dataset, <prefix>DataChunk)."""
    from . import backends, util
    from .backends import base
    from .util import data
    names = {
        'log': logging.getLogger(module),
        'Backend': backends.Backend,
        'BackendConnection': base.BackendConnection,
        'BackendDataset': base.BackendDataset,
        'BackendDataChunk': base.BackendDataChunk,
        'ConnectionError': base.ConnectionError,
        'DatasetNotFoundError': base.DatasetNotFoundError,
        'DirectoryTreeMixin': util.DirectoryTreeMixin,
        'dtype2str': util.dtype2str,
        'shape2str': util.shape2str,
        'str2shape': util.str2shape,
        'slices2shape': data.slices2shape,
    }
    return dict(names, **_classes(prefix, backend=backend))


def engine_module_names(module, engine, prefix):
    """The namespace of the original's dosna.engines.<engine> (classes
    <prefix>Connection, <prefix>Dataset, <prefix>DataChunk)."""
    from . import engines
    from .backends import get_backend
    from .engines import base
    from .util.mpi import MpiMixin
    names = {
        'log': logging.getLogger(module),
        'Engine': engines.Engine,
        'EngineConnection': base.EngineConnection,
        'EngineDataset': base.EngineDataset,
        'EngineDataChunk': base.EngineDataChunk,
        'CpuDataset': _dosna.Dataset,
        'MpiMixin': MpiMixin,
        'get_backend': get_backend,
    }
    return dict(names, **_classes(prefix, engine=engine))


def _classes(prefix, **selection):
    return {prefix + 'Connection': bound_connection(prefix + 'Connection', **selection),
            prefix + 'Dataset': _dosna.Dataset,
            prefix + 'DataChunk': _dosna.DataChunk}
