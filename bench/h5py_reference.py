#!/usr/bin/python3
"""Reference numbers for the hdf5 backend: plain h5py on ONE chunked HDF5 file.

The same operations as build/bin/dosna-bench, on a single HDF5 file whose
dataset is chunked with the same chunk shape (no compression), so DosNa's
hdf5 backend (one file per chunk) can be compared with what a user would do
with h5py alone. Run it with Debian's python3-h5py:

  /usr/bin/python3 bench/h5py_reference.py --shape 256,256,256 --chunks 64,64,64

Operations (--ops, comma separated):
  create_load  create the file and dataset, write the whole array, close
  read_full    open the file and read the whole dataset
  read_boxes   open the file and read --boxes random --box^N boxes
               (fixed --seed), one slicing call each

Each prints one JSON line: op, backend ("h5py"), shape, chunks, dtype,
bytes, seconds, mb_per_s, ops_per_s, us_per_op (MB = 1e6 bytes), and
cpu_seconds (median process CPU time; steadier on a busy machine). As in
dosna-bench, `seconds` is the median over --reps repetitions, reads go into
preallocated, already-touched arrays (read_direct), and the page cache is
warm (the file was just written).
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import h5py
import numpy as np


def ints(text):
    return tuple(int(v) for v in text.split(","))


def emit(op, args, nbytes, timing, ops):
    seconds, cpu_seconds = timing
    print(json.dumps({
        "op": op,
        "backend": "h5py",
        "shape": list(args.shape),
        "chunks": list(args.chunks),
        "dtype": np.dtype(args.dtype).str,
        "bytes": int(nbytes),
        "seconds": seconds,
        "mb_per_s": nbytes / seconds / 1e6 if seconds > 0 else None,
        "ops_per_s": ops / seconds if seconds > 0 else None,
        "us_per_op": seconds / ops * 1e6 if ops else None,
        "cpu_seconds": cpu_seconds,
    }), flush=True)


def median_of(reps, fn, prepare=None):
    times, cpu = [], []
    for _ in range(reps):
        if prepare:
            prepare()  # untimed, as dosna-bench poisons its output
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return float(np.median(times)), float(np.median(cpu))


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shape", type=ints, default=(256, 256, 256))
    p.add_argument("--chunks", type=ints, default=(64, 64, 64))
    p.add_argument("--dtype", default="float32")
    p.add_argument("--ops", default="create_load,read_full,read_boxes")
    p.add_argument("--boxes", type=int, default=200)
    p.add_argument("--box", type=int, default=24)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--dir", default=None, help="where to put the file (default: a temp dir)")
    args = p.parse_args(argv[1:])
    if len(args.chunks) != len(args.shape):
        p.error("--chunks must have one value per axis of --shape")

    workdir = tempfile.mkdtemp(prefix="h5py-ref-", dir=args.dir)
    path = os.path.join(workdir, "data.h5")
    try:
        rng = np.random.default_rng(args.seed)
        data = rng.random(args.shape, dtype=np.float64).astype(args.dtype)
        ops = [o for o in args.ops.split(",") if o]

        def create_load():
            with h5py.File(path, "w") as f:
                d = f.create_dataset("data", shape=args.shape, dtype=args.dtype,
                                     chunks=args.chunks, fillvalue=0)
                d[...] = data

        full = np.empty_like(data)

        def read_full():
            with h5py.File(path, "r") as f:
                f["data"].read_direct(full)

        box = tuple(min(args.box, s) for s in args.shape)
        origins = [tuple(int(rng.integers(0, s - b + 1)) for s, b in zip(args.shape, box))
                   for _ in range(args.boxes)]

        sels = [tuple(slice(a, a + b) for a, b in zip(o, box)) for o in origins]
        outs = [np.empty(box, dtype=data.dtype) for _ in origins]

        def read_boxes():
            with h5py.File(path, "r") as f:
                d = f["data"]
                for sel, out in zip(sels, outs):
                    d.read_direct(out, source_sel=sel)

        timing = median_of(args.reps if "create_load" in ops else 1, create_load)
        if "create_load" in ops:
            emit("create_load", args, data.nbytes, timing, 1)
        for op in ops:
            if op == "create_load":
                continue
            if op == "read_full":
                emit(op, args, data.nbytes, median_of(args.reps, read_full, lambda: full.fill(-1)), 1)
                if not np.array_equal(full, data):
                    sys.exit("read_full: wrong data")
            elif op == "read_boxes":
                nbytes = len(origins) * int(np.prod(box)) * data.itemsize
                emit(op, args, nbytes, median_of(args.reps, read_boxes), len(origins))
                for sel, out in zip(sels, outs):
                    if not np.array_equal(out, data[sel]):
                        sys.exit("read_boxes: wrong data")
            else:
                p.error("unknown op " + op)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
