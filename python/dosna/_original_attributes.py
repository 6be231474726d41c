"""Members of the original's Dataset and DataChunk classes that the
extension types (_dosna) lack, added to them here: `instance` (the
original's engine wrappers hold the backend's object there; one object is
both here), `mpi_comm`, and the ceph/s3 chunks' raw `read` / `write_full`."""

import numpy as np

from . import _dosna


def _instance(self):
    return self


def _mpi_comm(self):
    from .util import mpi
    return mpi.mpi_comm()


def read(self, length=None, offset=0):
    """The chunk's stored bytes: `length` bytes (default: to the end) from
    `offset` of its full chunk_size block in C order, the dtype's byte order.
    A chunk never written reads as fill values (and is not created)."""
    data = np.ascontiguousarray(self.get_data()).tobytes()
    end = len(data) if length is None else offset + length
    return data[offset:end]


def write_full(self, data):
    """Replaces the whole chunk with `data`: byte_count bytes, as read()
    returns them. Raises ValueError for any other length."""
    data = bytes(data)
    if len(data) != self.byte_count:
        raise ValueError('write_full({}): {} bytes given, the chunk holds {}'.format(
            self.name, len(data), self.byte_count))
    self.set_data(np.frombuffer(data, dtype=self.dtype).reshape(self.shape))


_dosna.Dataset.instance = property(_instance)
_dosna.Dataset.mpi_comm = property(_mpi_comm)
_dosna.DataChunk.instance = property(_instance)
_dosna.DataChunk.read = read
_dosna.DataChunk.write_full = write_full
