"""The original's dosna.backends.ram (MemConnection, MemDataset,
MemDataChunk, ...) on this DosNa's ram backend: dosna._original_modules."""

from .._original_modules import backend_module_names

globals().update(backend_module_names(__name__, 'ram', 'Mem'))
