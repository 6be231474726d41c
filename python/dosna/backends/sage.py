"""The original's dosna.backends.sage (SageConnection, SageDataset,
SageDataChunk, ...) on this DosNa's sage backend: dosna._original_modules."""

from .._original_modules import backend_module_names

globals().update(backend_module_names(__name__, 'sage', 'Sage'))
