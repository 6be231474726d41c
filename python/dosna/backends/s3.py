"""The original's dosna.backends.s3 (S3Connection, S3Dataset,
S3DataChunk, ...) on this DosNa's s3 backend: dosna._original_modules."""

from .._original_modules import backend_module_names

globals().update(backend_module_names(__name__, 's3', 'S3'))


def bucketName(name):  # noqa: N802  (the original's name)
    """The bucket that holds dataset `name` (FORMAT.md: '_' -> '-', lower case)."""
    return name.replace('_', '-').lower()
