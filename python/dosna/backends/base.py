"""The original's dosna.backends.base names. Its abstract per-backend base
classes are this DosNa's one Connection / Dataset / DataChunk (isinstance
works; a new backend is written in C++, not by subclassing these)."""

import logging

from .._dosna import ConnectionError, DatasetNotFoundError  # noqa: F401
from .._dosna import DataChunk as BackendDataChunk  # noqa: F401
from .._dosna import Dataset as BackendDataset  # noqa: F401
from ..connection import Connection as BackendConnection  # noqa: F401

log = logging.getLogger(__name__)
