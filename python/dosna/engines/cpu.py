"""The original's dosna.engines.cpu (CpuConnection, CpuDataset,
CpuDataChunk, ...) on this DosNa's cpu engine: dosna._original_modules."""

from .._original_modules import engine_module_names

globals().update(engine_module_names(__name__, 'cpu', 'Cpu'))
