#!/usr/bin/python3
"""Runs the original Python DosNa -- its own, unmodified source, not this
project's module -- on one dataset in a Ceph pool or behind an S3 endpoint,
so each side is checked on what the other wrote.

  original_dosna.py read  BACKEND STORE DATASET CASE.npz
      open DATASET with the original (engine cpu), check dtype, shape,
      fill value and every element against CASE.npz ('data', 'fill')
  original_dosna.py write BACKEND STORE DATASET CASE.npz
      create DATASET with the original from 'data' with fillvalue 'fill'
      and chunk_size 'chunk', then delete the chunk at 'missing'

BACKEND is ceph (STORE = pool, $CEPH_CONF) or s3 (STORE = a label,
$DOSNA_S3_ENDPOINT and the AWS_* files). The original's source is the
directory named by $DOSNA_ORIGINAL_SRC (a checkout of its repository: the
directory that holds dosna/); see original_source() in
tests/python/test_original_interop.py.

The original is Python 2 code. Under Python 3 its ceph and s3 backends
compare the bytes that librados/boto3 return with a str signature (so no
dataset is ever found) and hand str xattrs to librados. At that boundary and
nowhere else this script gives it Python 2's `str is bytes`: the signature
constants become bytes and its librados I/O context takes and returns text
xattrs. Everything else -- create, metadata parsing with int(), chunk
naming, chunk I/O -- is the original's own code.
"""
import os
import sys

import numpy as np

SIGNATURE = b"DosNa Dataset"


def fail(msg):
    print("original_dosna: " + msg, file=sys.stderr)
    sys.exit(1)


class _TextXattrIoctx(object):
    """A librados Ioctx whose xattr values are str, as under Python 2."""

    def __init__(self, ioctx):
        self._ioctx = ioctx

    def get_xattr(self, name, key):
        return self._ioctx.get_xattr(name, key).decode("latin-1")

    def set_xattr(self, name, key, value):
        if isinstance(value, str):
            value = value.encode("latin-1")
        return self._ioctx.set_xattr(name, key, value)

    def __getattr__(self, attr):
        return getattr(self._ioctx, attr)


class _Rados(object):
    """rados.Rados handing out _TextXattrIoctx."""

    def __init__(self, **kwargs):
        import rados
        self._cluster = rados.Rados(**kwargs)

    def open_ioctx(self, name):
        return _TextXattrIoctx(self._cluster.open_ioctx(name))

    def __getattr__(self, attr):
        return getattr(self._cluster, attr)


def import_original():
    src = os.environ.get("DOSNA_ORIGINAL_SRC")
    if not src or not os.path.isfile(os.path.join(src, "dosna", "backends", "ceph.py")):
        fail("DOSNA_ORIGINAL_SRC={!r} is not a checkout of the original DosNa".format(src))
    sys.path.insert(0, src)
    import dosna as dn
    if not os.path.abspath(dn.__file__).startswith(os.path.abspath(src)):
        fail("imported {} instead of the original's dosna".format(dn.__file__))
    return dn


def connect(dn, backend, store):
    import importlib
    module = importlib.import_module("dosna.backends." + backend)
    module._SIGNATURE = SIGNATURE
    if backend == "ceph":
        import types
        import rados
        module.rados = types.SimpleNamespace(Rados=_Rados, ObjectNotFound=rados.ObjectNotFound)
        options = {"conffile": os.environ["CEPH_CONF"]}
    elif backend == "s3":
        options = {"endpoint_url": os.environ["DOSNA_S3_ENDPOINT"]}
    else:
        fail("backend {!r}: only ceph and s3 store the fill value as text".format(backend))
    dn.use(backend=backend, engine="cpu")
    return dn.Connection(store, **options)


def read(dn, backend, store, dataset, case):
    expect, fill = case["data"], case["fill"][()]
    with connect(dn, backend, store) as con:
        ds = con.get_dataset(dataset)  # the original parses the fill value with int()
        if np.dtype(ds.dtype) != expect.dtype:
            fail("dtype {} != {}".format(ds.dtype, expect.dtype))
        if tuple(ds.shape) != expect.shape:
            fail("shape {} != {}".format(ds.shape, expect.shape))
        if ds.fillvalue != fill:
            fail("fillvalue {!r} != {!r}".format(ds.fillvalue, fill))
        got = ds[...]
        if got.dtype != expect.dtype or not np.array_equal(got, expect):
            bad = np.argwhere(got != expect)
            fail("{} elements differ, first at {}: {} != {}".format(
                len(bad), tuple(bad[0]), got[tuple(bad[0])], expect[tuple(bad[0])]))
    print("original_dosna: OK read {} {} {} fillvalue={!r}".format(
        backend, dataset, expect.dtype.str, fill))


def write(dn, backend, store, dataset, case):
    data, fill = case["data"], case["fill"][()].item()
    chunk, missing = tuple(int(c) for c in case["chunk"]), tuple(int(i) for i in case["missing"])
    with connect(dn, backend, store) as con:
        ds = con.create_dataset(dataset, data=data, chunk_size=chunk, fillvalue=fill)
        if not ds.has_chunk(missing):
            fail("chunk {} was not written".format(missing))
        ds.del_chunk(missing)
        if ds.has_chunk(missing):
            fail("chunk {} was not deleted".format(missing))
    print("original_dosna: OK wrote {} {} fillvalue={!r}".format(backend, dataset, fill))


def main():
    if len(sys.argv) != 6 or sys.argv[1] not in ("read", "write"):
        fail(__doc__)
    mode, backend, store, dataset, case_file = sys.argv[1:6]
    case = np.load(case_file)
    dn = import_original()
    (read if mode == "read" else write)(dn, backend, store, dataset, case)


if __name__ == "__main__":
    main()
