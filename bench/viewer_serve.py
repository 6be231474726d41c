"""`dosna serve` timing: a 1024x1024 plane of a 64^3-chunked float32 hdf5
dataset (shape 64x1024x1024) fetched as PNG over HTTP, against reading and
encoding the same plane in one process (`dosna slice --png`, same encoder),
and a repeated request served from the chunk cache.

    /usr/bin/python3 bench/viewer_serve.py [--dir /tmp/dosna-viewer-bench] [--repeat 5]

Prints one JSON line per measurement (median seconds) and the ratios; record
`uptime` with them.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DOSNA = str(ROOT / "build" / "bin" / "dosna")


def timed(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default="/tmp/dosna-viewer-bench")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    d = Path(args.dir)
    d.mkdir(parents=True, exist_ok=True)
    store = f"hdf5://{d}/store"
    if not (d / "store" / "vol").is_dir():
        vol = np.lib.format.open_memmap(d / "vol.npy", "w+", "<f4", (64, 1024, 1024))
        for z in range(64):
            vol[z] = np.random.default_rng(z).standard_normal((1024, 1024), "f4")
        vol.flush()
        del vol
        subprocess.run([DOSNA, "import", d / "vol.npy", store, "vol", "--chunks", "64,64,64",
                        "-q"], check=True)
        os.unlink(d / "vol.npy")
    index = [10]

    def in_process():
        index[0] += 1
        subprocess.run([DOSNA, "slice", store, "vol", f"{index[0]},:,:", "--png",
                        d / "plane.png", "-q"], check=True)

    base, base_all = timed(in_process, args.repeat)
    results = {"in_process_read_png_s": base}

    def server(cache):
        p = subprocess.Popen([DOSNA, "serve", store, "--port", "0", "--cache-bytes", cache],
                             stdout=subprocess.PIPE, text=True)
        return p, p.stdout.readline().split(" at ")[1].split()[0].rstrip("/")

    def get(url, query):
        with urllib.request.urlopen(f"{url}/api/slice.png?dataset=vol&{query}", timeout=300) as r:
            assert r.status == 200 and len(r.read()) > 1000

    p, url = server("0")
    try:
        get(url, "axis=0&index=0")  # warm-up: open the store
        results["serve_png_nocache_s"], _ = timed(
            lambda: (index.__setitem__(0, index[0] + 1), get(url, f"axis=0&index={index[0]}")),
            args.repeat)
    finally:
        p.terminate()
        p.wait()
    # Every axis-0 plane lies in the same 256 chunks: a fresh server per
    # repetition, warmed up on a plane of other chunks, keeps "first" cold.
    firsts, repeats = [], []
    for _ in range(args.repeat):
        p, url = server("1G")
        try:
            get(url, "axis=2&index=1000")  # chunks x=15 only
            index[0] += 1
            t = time.perf_counter()
            get(url, f"axis=0&index={index[0]}")
            firsts.append(time.perf_counter() - t)
            t = time.perf_counter()
            get(url, f"axis=0&index={index[0]}")
            repeats.append(time.perf_counter() - t)
        finally:
            p.terminate()
            p.wait()
    results["serve_png_first_cached_s"] = statistics.median(firsts)
    results["serve_png_repeat_cached_s"] = statistics.median(repeats)
    results["serve_over_in_process"] = results["serve_png_nocache_s"] / base
    results["first_over_repeat"] = (results["serve_png_first_cached_s"] /
                                    results["serve_png_repeat_cached_s"])
    results["uptime"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    sys.exit(main())
