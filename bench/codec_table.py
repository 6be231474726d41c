#!/usr/bin/env python3
"""codec_table: compression ratio and MB/s of each zarr codec DosNa offers on
the convolution job's data (examples/convolution: a uniform random float32
volume, and its Gaussian-filtered result, which is what the job writes).

For each volume and each --compressions entry, a zarr3 dataset on the file
store (a temp directory), engine threads with --njobs:
  - ratio: decoded bytes / bytes of the chunk files on disk;
  - write and read_full MB/s of the decoded volume (medians of --reps);
  - codec MB/s: numcodecs (the same C libraries) encoding and decoding every
    chunk one after the other in one thread, the reference for the codec
    library's own speed.
Prints a markdown table and the 1-minute load average.

    PYTHONPATH=build/python /usr/bin/python3 bench/codec_table.py --n 192 --chunk 64 --reps 3
"""

import argparse
import os
import shutil
import statistics
import tempfile
import time

import numcodecs
import numpy as np
from scipy import ndimage

import dosna as dn

NUMCODECS = {
    "none": None,
    "zstd": numcodecs.Zstd(level=3),
    "gzip": numcodecs.GZip(level=5),
    "blosc-lz4": numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE),
    "blosc-zstd": numcodecs.Blosc(cname="zstd", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE),
}


def random_volume(n):
    """The convolution job's input (splitmix64, uniform [0, 1))."""
    mask = (1 << 64) - 1
    state = (0x9E3779B97F4A7C15 * n) & mask
    idx = np.arange(1, n ** 3 + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(state) + idx * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return ((z >> np.uint64(40)).astype(np.float32) * np.float32(1.0 / 16777216.0)).reshape(n, n, n)


def disk_bytes(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs
               if f != "zarr.json" and not f.startswith(".dosna-"))


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def chunks_of(a, c):
    n = a.shape[0]
    return [np.ascontiguousarray(a[i:i + c, j:j + c, k:k + c])
            for i in range(0, n, c) for j in range(0, n, c) for k in range(0, n, c)]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=192)
    p.add_argument("--chunk", type=int, default=64)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--njobs", type=int, default=2)
    p.add_argument("--compressions", default="none,zstd,gzip,blosc-lz4,blosc-zstd")
    args = p.parse_args()
    raw = random_volume(args.n)
    volumes = {"input (random)": raw, "output (gaussian 1.5)": ndimage.gaussian_filter(raw, 1.5)}
    mb = raw.nbytes / 1e6
    root = tempfile.mkdtemp(prefix="dosna-codecs-")
    print("| data | compression | ratio | DosNa write MB/s | DosNa read_full MB/s | codec encode MB/s | codec decode MB/s |")
    print("|---|---|---|---|---|---|---|")
    try:
        os.mkdir(os.path.join(root, "s"))
        con = dn.Connection("s", backend="file", directory=root, engine="threads", njobs=args.njobs)
        con.connect()
        for label, a in volumes.items():
            pieces = chunks_of(a, args.chunk)
            for comp in args.compressions.split(","):
                w, r = [], []
                for rep in range(args.reps):
                    name = "v"
                    if con.has_dataset(name):
                        con.del_dataset(name)
                    ds = con.create_dataset(name, shape=a.shape, dtype="float32",
                                            chunk_size=(args.chunk,) * 3, format="zarr3",
                                            compression=None if comp == "none" else comp)
                    w.append(timed(lambda: ds.__setitem__(Ellipsis, a)))
                    out = {}
                    r.append(timed(lambda: out.setdefault("x", ds[...])))
                    assert np.array_equal(out["x"], a)
                ratio = a.nbytes / disk_bytes(os.path.join(root, "s", "v"))
                codec = NUMCODECS[comp]
                if codec is None:
                    enc = dec = float("nan")
                else:
                    stored = []
                    enc = statistics.median(timed(lambda: stored.__setitem__(slice(None), [codec.encode(c) for c in pieces]))
                                            for _ in range(args.reps))
                    dec = statistics.median(timed(lambda: [codec.decode(s) for s in stored])
                                            for _ in range(args.reps))
                    enc, dec = mb / enc, mb / dec
                print("| {} | {} | {:.2f} | {:.0f} | {:.0f} | {:.0f} | {:.0f} |".format(
                    label, comp, ratio, mb / statistics.median(w), mb / statistics.median(r), enc, dec))
        con.disconnect()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print("n={} chunk={} njobs={} reps={} load1={:.2f}".format(args.n, args.chunk, args.njobs,
                                                             args.reps, os.getloadavg()[0]))


if __name__ == "__main__":
    main()
