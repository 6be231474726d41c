"""Error types under the names the original DosNa exported them."""

from .._dosna import ConnectionError, DatasetNotFoundError  # noqa: F401
