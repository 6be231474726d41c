"""The original's dosna.engines.jl (JoblibConnection, JoblibDataset,
JoblibDataChunk, ...) on this DosNa's jl engine: dosna._original_modules."""

from .._original_modules import engine_module_names

globals().update(engine_module_names(__name__, 'jl', 'Joblib'))
