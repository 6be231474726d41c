"""The original's dosna.engines.mpi (MpiConnection, MpiDataset,
MpiDataChunk, ...) on this DosNa's mpi engine: dosna._original_modules."""

from .._original_modules import engine_module_names

globals().update(engine_module_names(__name__, 'mpi', 'Mpi'))
