"""The original's dosna.backends.hdf5 (H5Connection, H5Dataset,
H5DataChunk, ...) on this DosNa's hdf5 backend: dosna._original_modules."""

from .._original_modules import backend_module_names

globals().update(backend_module_names(__name__, 'hdf5', 'H5'))
