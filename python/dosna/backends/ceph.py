"""The original's dosna.backends.ceph (CephConnection, CephDataset,
CephDataChunk, ...) on this DosNa's ceph backend: dosna._original_modules."""

from .._original_modules import backend_module_names

globals().update(backend_module_names(__name__, 'ceph', 'Ceph'))
