#!/usr/bin/env python3
"""zarr_compare: DosNa's zarr v2 arrays on the file store against zarr-python
2.13 on the same directory tree, and against the codec library decoding the
same stored chunks in a tight loop.

For each --compressions entry (DosNa's names: blosc-lz4, zstd, gzip,
blosc-zstd, none) and each of --reps rounds (interleaved, so a change of the
machine's load hits all):
  - write: zarr-python `z[...] = a` vs DosNa `ds[...] = a` (engine threads,
    --njobs), the same volume, chunks and compressor settings;
  - read_full: `z[...]` vs `ds[...]`;
  - decode_loop: every stored chunk of DosNa's array, already in memory,
    decoded with numcodecs (which calls the same C library) one after the
    other, and by --njobs threads.
Prints one JSON line per compression with medians (seconds and MB/s of the
decoded volume), the ratios the zarr issue states, the compression ratio and
the 1-minute load average.

    PYTHONPATH=build/python /usr/bin/python3 bench/zarr_compare.py --reps 5
"""

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import numcodecs
import numpy as np
import zarr

import dosna as dn

NUMCODECS = {
    "none": None,
    "blosc-lz4": numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE),
    "blosc-zstd": numcodecs.Blosc(cname="zstd", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE),
    "zstd": numcodecs.Zstd(level=3),
    "gzip": numcodecs.GZip(level=5),
}


def volume(shape, dtype):
    """A smooth volume with noise, like a reconstructed tomogram (compresses
    by a few x, not by 100x as constant data would)."""
    rng = np.random.default_rng(0)
    z, y, x = np.meshgrid(*[np.linspace(0, 6.28, n, dtype="f4") for n in shape], indexing="ij")
    v = 2000 + 1000 * (np.sin(3 * x) * np.cos(2 * y) + np.sin(z)) + rng.normal(0, 30, shape)
    return v.astype(dtype)


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shape", default="256,256,256")
    p.add_argument("--chunks", default="64,64,64")
    p.add_argument("--dtype", default="uint16")
    p.add_argument("--compressions", default="blosc-lz4,zstd")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--njobs", type=int, default=2)
    p.add_argument("--dir", default=None, help="parent directory (default: a temp one)")
    args = p.parse_args()
    shape = tuple(int(s) for s in args.shape.split(","))
    chunks = tuple(int(s) for s in args.chunks.split(","))
    a = volume(shape, args.dtype)
    mb = a.nbytes / 1e6
    parent = args.dir or tempfile.mkdtemp(prefix="zarr-compare-")
    root = os.path.join(parent, "store")
    os.makedirs(root, exist_ok=True)
    con = dn.Connection("store", backend="file", directory=parent, engine="jl", njobs=args.njobs)
    con.connect()
    pool = ThreadPoolExecutor(args.njobs)
    for comp in args.compressions.split(","):
        t = {k: [] for k in ("zarr_write", "dosna_write", "zarr_read", "dosna_read",
                             "decode_1", "decode_n")}
        stored = 0
        for rep in range(args.reps):
            zpath = os.path.join(parent, "zarr-python")
            shutil.rmtree(zpath, ignore_errors=True)
            z = zarr.create(shape=shape, chunks=chunks, dtype=args.dtype, compressor=NUMCODECS[comp],
                            store=zarr.DirectoryStore(zpath))
            t["zarr_write"].append(timed(lambda: z.__setitem__(Ellipsis, a)))
            if "vol" in con.list_datasets():
                con.del_dataset("vol")
            ds = con.create_dataset("vol", shape=shape, dtype=args.dtype, chunk_size=chunks,
                                    format="zarr2", compression=None if comp == "none" else comp)
            t["dosna_write"].append(timed(lambda: ds.__setitem__(Ellipsis, a)))
            got = {}
            t["zarr_read"].append(timed(lambda: got.__setitem__("z", z[...])))
            t["dosna_read"].append(timed(lambda: got.__setitem__("d", ds[...])))
            assert (got["z"] == a).all() and (got["d"] == a).all(), comp
            keys = [k for k in os.listdir(os.path.join(root, "vol")) if not k.startswith(".")]
            blobs = [open(os.path.join(root, "vol", k), "rb").read() for k in keys]
            stored = sum(len(b) for b in blobs)
            codec = NUMCODECS[comp] or numcodecs.Zstd()  # "none": nothing to decode
            if NUMCODECS[comp] is not None:
                t["decode_1"].append(timed(lambda: [codec.decode(b) for b in blobs]))
                t["decode_n"].append(timed(lambda: list(pool.map(codec.decode, blobs))))
        med = {k: statistics.median(v) for k, v in t.items() if v}
        out = {"compression": comp, "shape": shape, "chunks": chunks, "dtype": args.dtype,
               "reps": args.reps, "njobs": args.njobs,
               "compression_ratio": round(a.nbytes / stored, 2),
               "seconds": {k: round(v, 4) for k, v in med.items()},
               "MB/s": {k: round(mb / v, 1) for k, v in med.items()},
               "read_vs_zarr_python": round(med["zarr_read"] / med["dosna_read"], 2),
               "write_vs_zarr_python": round(med["zarr_write"] / med["dosna_write"], 2),
               "load1": os.getloadavg()[0]}
        if "decode_n" in med:
            out["read_vs_decode_loop_1thread"] = round(med["decode_1"] / med["dosna_read"], 2)
            out["read_vs_decode_loop_njobs"] = round(med["decode_n"] / med["dosna_read"], 2)
        print(json.dumps(out), flush=True)
    con.disconnect()
    if not args.dir:
        shutil.rmtree(parent, ignore_errors=True)


if __name__ == "__main__":
    main()
