#!/usr/bin/python3
"""Reference line for dosna-bench's read_boxes on ceph: the same kind of
workload (random 24^3 boxes of a 256^3 float32 dataset in 64^3 chunks), read
the way the Python original does it: one chunk at a time, one synchronous
whole-object read per chunk (no stat first, so the baseline is not slowed by
an extra round trip), then the box is cut out with numpy.

  ceph_sync_boxes.py [--boxes 200] [--shape 256] [--chunk 64] [--box 24] [--reps 3]

Writes its own dataset objects (layout of FORMAT.md) into DOSNA_CEPH_POOL of
CEPH_CONF, prints one JSON line in dosna-bench's format, removes them.
"""
import argparse
import itertools
import json
import os
import statistics
import time

import numpy as np
import rados


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--boxes", type=int, default=200)
    ap.add_argument("--shape", type=int, default=256)
    ap.add_argument("--chunk", type=int, default=64)
    ap.add_argument("--box", type=int, default=24)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=12345)
    a = ap.parse_args()
    n, c, b = a.shape, a.chunk, a.box
    grid = -(-n // c)
    cluster = rados.Rados(conffile=os.environ["CEPH_CONF"])
    cluster.connect(timeout=10)
    io = cluster.open_ioctx(os.environ["DOSNA_CEPH_POOL"])
    name = f"sync-boxes-ref-{os.getpid()}"
    rng = np.random.default_rng(a.seed)
    chunks = {}
    for idx in itertools.product(range(grid), repeat=3):
        block = rng.random((c, c, c), dtype=np.float32)
        chunks[idx] = block
        io.write_full(f"{name}/{idx[0]}.{idx[1]}.{idx[2]}", block.tobytes())
    starts = rng.integers(0, n - b + 1, size=(a.boxes, 3))
    nbytes = c * c * c * 4
    times = []
    for _ in range(a.reps):
        t0 = time.perf_counter()
        for s in starts:
            out = np.empty((b, b, b), dtype=np.float32)
            lo, hi = s // c, (s + b - 1) // c
            for idx in itertools.product(*(range(l, h + 1) for l, h in zip(lo, hi))):
                raw = io.read(f"{name}/{idx[0]}.{idx[1]}.{idx[2]}", nbytes)
                chunk = np.frombuffer(raw, dtype=np.float32).reshape(c, c, c)
                org = np.array(idx) * c
                a0 = np.maximum(s, org)
                a1 = np.minimum(s + b, org + c)
                out[tuple(slice(x - y, z - y) for x, y, z in zip(a0, s, a1))] = \
                    chunk[tuple(slice(x - o, z - o) for x, o, z in zip(a0, org, a1))]
            # verify outside the hot path would cost a second read; check one box element
            if not np.isfinite(out).all():
                raise SystemExit("bad data")
        times.append(time.perf_counter() - t0)
    for idx in chunks:
        io.remove_object(f"{name}/{idx[0]}.{idx[1]}.{idx[2]}")
    io.close()
    cluster.shutdown()
    sec = statistics.median(times)
    print(json.dumps({
        "op": "read_boxes_sync_reference", "backend": "ceph (python3-rados, one chunk at a time)",
        "engine": None, "shape": [n] * 3, "chunks": [c] * 3, "bytes": a.boxes * b ** 3 * 4,
        "seconds": sec, "mb_per_s": a.boxes * b ** 3 * 4 / sec / 1e6,
        "ops_per_s": a.boxes / sec, "us_per_op": sec / a.boxes * 1e6}))


if __name__ == "__main__":
    main()
