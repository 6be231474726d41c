#!/usr/bin/python3
"""Writes and checks DosNa datasets in a Ceph pool exactly as FORMAT.md lays
them out, with Debian's python3-rados only (no DosNa code), so the C++
library is checked against the on-store format from both sides.

  ceph_interop.py write POOL NAME   write dataset NAME; chunk (1,1,1) left out
  ceph_interop.py check POOL NAME   check what the library wrote (all chunks)
  ceph_interop.py gone  POOL NAME   check that no object of NAME is left

The dataset: shape (10, 12, 7), '<f4', chunk_size (4, 5, 3), fill value 0.5,
element at flat C-order index n = n * 1.5. CEPH_CONF names the cluster.
"""
import itertools
import os
import sys

import numpy as np
import rados

SHAPE = (10, 12, 7)
CHUNK = (4, 5, 3)
GRID = tuple(-(-s // c) for s, c in zip(SHAPE, CHUNK))
DTYPE = np.dtype("<f4")
FILL = 0.5
SIGNATURE = b"DosNa Dataset"
MISSING = (1, 1, 1)
XATTRS = {
    "shape": "::".join(map(str, SHAPE)),
    "dtype": DTYPE.str,
    "fillvalue": repr(FILL),
    "chunk_grid": "::".join(map(str, GRID)),
    "chunk_size": "::".join(map(str, CHUNK)),
}


def data():
    return (np.arange(np.prod(SHAPE), dtype=np.float64) * 1.5).astype(DTYPE).reshape(SHAPE)


def chunk_bytes(arr, idx):
    block = np.full(CHUNK, FILL, dtype=DTYPE)
    lo = [i * c for i, c in zip(idx, CHUNK)]
    hi = [min(l + c, s) for l, c, s in zip(lo, CHUNK, SHAPE)]
    part = arr[tuple(slice(l, h) for l, h in zip(lo, hi))]
    block[tuple(slice(0, h - l) for l, h in zip(lo, hi))] = part
    return block.tobytes()


def chunk_name(name, idx):
    return name + "/" + ".".join(map(str, idx))


def fail(msg):
    print("ceph_interop: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    mode, pool, name = sys.argv[1:4]
    cluster = rados.Rados(conffile=os.environ.get("CEPH_CONF", "ceph.conf"),
                          conf={"rados_osd_op_timeout": "30"})
    cluster.connect(timeout=10)
    io = cluster.open_ioctx(pool)
    arr = data()
    indices = list(itertools.product(*(range(g) for g in GRID)))
    if mode == "write":
        # As the original Python DosNa does: the signature object, its xattrs,
        # then one write_full per chunk.
        io.write_full(name, SIGNATURE)
        for key, value in XATTRS.items():
            io.set_xattr(name, key, value.encode())
        for idx in indices:
            if idx != MISSING:
                io.write_full(chunk_name(name, idx), chunk_bytes(arr, idx))
    elif mode == "check":
        content = io.read(name, 100)
        if content != SIGNATURE:
            fail(f"dataset object {name!r} holds {content!r}")
        got = {k: v.decode() for k, v in io.get_xattrs(name)}
        if got != XATTRS:
            fail(f"xattrs of {name!r}: {got} != {XATTRS}")
        names = {o.key for o in io.list_objects() if o.key.startswith(name + "/")}
        expected = {chunk_name(name, idx) for idx in indices}
        if names != expected:
            fail(f"chunk objects differ: extra {sorted(names - expected)}, "
                 f"missing {sorted(expected - names)}")
        for idx in indices:
            want = chunk_bytes(arr, idx)
            size, _ = io.stat(chunk_name(name, idx))
            got_bytes = io.read(chunk_name(name, idx), size + 1)
            if got_bytes != want:
                fail(f"bytes of {chunk_name(name, idx)} differ ({len(got_bytes)} vs {len(want)})")
    elif mode == "gone":
        left = [o.key for o in io.list_objects() if o.key == name or o.key.startswith(name + "/")]
        if left:
            fail(f"objects left after delete: {sorted(left)}")
    else:
        fail(f"unknown mode {mode!r}")
    io.close()
    cluster.shutdown()


if __name__ == "__main__":
    main()
