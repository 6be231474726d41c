#!/usr/bin/python3
"""Interop between DosNa's hdf5 backend and the Python original's layout.

Driven by tests/unit/hdf5_interop_test.cc; uses Debian's python3-h5py.

  write-original DIR   writes a tree under DIR exactly the way the Python
                       DosNa's hdf5 backend does (h5py, attribute types per
                       FORMAT.md), with variations the original produced:
                       chunk files with sub-chunked + gzip layout, chunk
                       files created without data, edge chunks partly
                       written, a fixed-length dtype string, int32 metadata
                       arrays and the older `chunks` attribute.
  check-read DIR OUT   compares OUT/<name>.out (what the library read, raw
                       C-order bytes) with the expected arrays.
  write-inputs OUT     writes OUT/<name>.in: raw input data for the library.
  check-written DIR    reads the datasets the library wrote under DIR with
                       h5py the way the original does; checks attribute
                       types and values and every chunk file.

Exit status 0 on success; failures are printed.
"""
import os
import sys

import h5py
import numpy as np

# name, dtype, shape, chunk_size, fillvalue -- same table as the C++ test.
SPECS = [
    ("f4", "<f4", (70, 50, 30), (32, 32, 16), 0.5),
    ("i8", "<i8", (40, 33), (16, 16), -1),
    ("b1", "|b1", (20, 20, 20), (8, 8, 8), True),
    ("c8", "<c8", (17, 9), (5, 4), 1 + 2j),
    ("u2", "<u2", (100,), (30,), 7),
    ("f8", "<f8", (10, 10, 10), (10, 10, 10), float("nan")),
]


def pattern(dtype, shape):
    n = int(np.prod(shape))
    k = np.arange(n)
    dt = np.dtype(dtype)
    if dt.kind == "b":
        v = (k % 3) == 0
    elif dt.kind == "c":
        v = (k % 251) + 1j * (k % 7)
    elif dt.kind == "u":
        v = k % 60000
    elif dt.kind == "i":
        v = (k % 1000) - 500
    else:
        v = (k % 251) * 0.25 - 10
    return np.asarray(v).astype(dt).reshape(shape)


def grid_of(shape, chunks):
    return tuple(int(np.ceil(s / c)) for s, c in zip(shape, chunks))


def chunk_box(idx, shape, chunks):
    return tuple(slice(i * c, min((i + 1) * c, s)) for i, c, s in zip(idx, chunks, shape))


def flat(idx, grid):
    return int(np.ravel_multi_index(idx, grid))


def original_expected(spec):
    """What a reader sees in the tree write-original produces."""
    name, dtype, shape, chunks, fill = spec
    out = pattern(dtype, shape).copy()
    grid = grid_of(shape, chunks)
    for idx in np.ndindex(*grid):
        f = flat(idx, grid)
        if f % 3 == 1 or f % 5 == 2:  # absent, or created without data
            out[chunk_box(idx, shape, chunks)] = np.dtype(dtype).type(fill)
    return out


def write_original(root):
    for spec in SPECS:
        name, dtype, shape, chunks, fill = spec
        dt = np.dtype(dtype)
        path = os.path.join(root, name)
        os.mkdir(path)
        grid = grid_of(shape, chunks)
        int_type = np.int32 if name == "u2" else int
        with h5py.File(os.path.join(path, "dataset.h5"), "w") as f:
            f.attrs["shape"] = shape
            if name == "i8":
                f.attrs["dtype"] = np.bytes_(dt.str)  # fixed-length string
            else:
                f.attrs["dtype"] = dt.str
            f.attrs["fillvalue"] = dt.type(fill)
            f.attrs["chunks" if name == "u2" else "chunk_grid"] = np.asarray(grid, dtype=int_type)
            f.attrs["chunk_size"] = np.asarray(chunks, dtype=int_type)
        data = pattern(dtype, shape)
        subchunks = tuple(max(1, c // 2) for c in chunks) if name in ("f8", "c8") else None
        for idx in np.ndindex(*grid):
            fi = flat(idx, grid)
            if fi % 3 == 1:
                continue
            cname = os.path.join(path, "chunk_%s.h5" % "_".join(map(str, idx)))
            with h5py.File(cname, "w") as f:
                kw = dict(chunks=subchunks, compression="gzip") if subchunks else {}
                d = f.create_dataset("data", shape=chunks, dtype=dt, fillvalue=dt.type(fill), **kw)
                if fi % 5 == 2:
                    continue
                box = chunk_box(idx, shape, chunks)
                inner = tuple(slice(0, b.stop - b.start) for b in box)
                d[inner] = data[box]
    return 0


def same(a, b):
    if a.dtype.kind in "fc":
        return np.array_equal(a, b, equal_nan=True)
    return np.array_equal(a, b)


def check_read(root, out_dir):
    bad = 0
    for spec in SPECS:
        name, dtype, shape, chunks, fill = spec
        got = np.fromfile(os.path.join(out_dir, name + ".out"), dtype=np.dtype(dtype))
        exp = original_expected(spec)
        if got.size != exp.size or not same(got.reshape(shape), exp):
            print("check-read: %s differs from what the original wrote" % name)
            bad += 1
    return 1 if bad else 0


def write_inputs(out_dir):
    for name, dtype, shape, _, _ in SPECS:
        pattern(dtype, shape).tofile(os.path.join(out_dir, name + ".in"))
    return 0


def fail(msg):
    print("check-written: " + msg)
    return 1


def check_written(root):
    """The library wrote lib_<name>: rows [0, chunk0) of the pattern."""
    bad = 0
    for spec in SPECS:
        name, dtype, shape, chunks, fill = spec
        dt = np.dtype(dtype)
        path = os.path.join(root, "lib_" + name)
        grid = grid_of(shape, chunks)
        # As the original's get_dataset reads it.
        with h5py.File(os.path.join(path, "dataset.h5"), "r") as f:
            a = f.attrs
            checks = [
                (tuple(a["shape"]) == shape, "shape value"),
                (a["shape"].dtype == np.int64, "shape type %s" % a["shape"].dtype),
                (isinstance(a["dtype"], str) and a["dtype"] == dt.str, "dtype %r" % a["dtype"]),
                (np.dtype(a["dtype"]) == dt, "np.dtype(dtype)"),
                (type(a["fillvalue"]) is dt.type, "fillvalue type %s" % type(a["fillvalue"])),
                (same(np.asarray(a["fillvalue"]), np.asarray(dt.type(fill))), "fillvalue value"),
                (tuple(a["chunk_grid"]) == grid, "chunk_grid value"),
                (a["chunk_grid"].dtype == np.int64, "chunk_grid type"),
                (tuple(a["chunk_size"]) == chunks, "chunk_size value"),
                (a["chunk_size"].dtype == np.int64, "chunk_size type"),
                (sorted(a.keys()) == sorted(["shape", "dtype", "fillvalue", "chunk_grid",
                                             "chunk_size"]), "attribute names %s" % list(a.keys())),
            ]
            for ok, what in checks:
                if not ok:
                    bad += fail("lib_%s: %s" % (name, what))
        expected = pattern(dtype, shape).copy()
        expected[chunks[0]:] = dt.type(fill)
        got = np.full(shape, dt.type(fill), dtype=dt)
        files = set(os.listdir(path)) - {"dataset.h5"}
        for idx in np.ndindex(*grid):
            cname = "chunk_%s.h5" % "_".join(map(str, idx))
            present = cname in files
            files.discard(cname)
            if present != (idx[0] == 0):
                bad += fail("lib_%s: %s present=%s" % (name, cname, present))
            if not present:
                continue
            with h5py.File(os.path.join(path, cname), "r") as f:
                d = f["data"]
                if d.shape != chunks or d.dtype != dt:
                    bad += fail("lib_%s/%s: /data is %s %s" % (name, cname, d.shape, d.dtype))
                    continue
                if not same(np.asarray(d.fillvalue), np.asarray(dt.type(fill))):
                    bad += fail("lib_%s/%s: HDF5 fill value %r" % (name, cname, d.fillvalue))
                if d.compression is not None or d.chunks is not None:
                    bad += fail("lib_%s/%s: not contiguous" % (name, cname))
                block = d[...]
                box = chunk_box(idx, shape, chunks)
                inner = tuple(slice(0, b.stop - b.start) for b in box)
                got[box] = block[inner]
                # The part outside the dataset holds the fill value (FORMAT.md).
                outside = np.ones(chunks, dtype=bool)
                outside[inner] = False
                if outside.any() and not same(block[outside],
                                              np.full(outside.sum(), dt.type(fill), dtype=dt)):
                    bad += fail("lib_%s/%s: edge padding is not the fill value" % (name, cname))
        if files:
            bad += fail("lib_%s: unexpected files %s" % (name, sorted(files)))
        if not same(got, expected):
            bad += fail("lib_%s: values differ" % name)
    return 1 if bad else 0


def main(argv):
    mode = argv[1]
    if mode == "write-original":
        return write_original(argv[2])
    if mode == "check-read":
        return check_read(argv[2], argv[3])
    if mode == "write-inputs":
        return write_inputs(argv[2])
    if mode == "check-written":
        return check_written(argv[2])
    print("unknown mode " + mode)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
