"""zarr-python 2.13 (Debian python3-zarr) against DosNa's zarr v2 arrays.

  read DIR   -- every array listed in DIR/specs.json (written by DosNa) reads
                with zarr-python as expected (exit 1 on a mismatch)
  write DIR  -- zarr-python writes the arrays of DIR/specs.json for DosNa

Each spec: name, dtype (numpy str), shape, chunks, fill, sep, pycodec (the
compressor zarr-python writes with). The first
`rows` rows hold 3*i+1 (bool: i % 3 == 0), the rest is never written
(DosNa/zarr must give the fill value there).
"""
import json
import sys

import numcodecs
import numpy as np
import zarr

PYCODECS = {
    "": None,
    "blosc-lz4": numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE),
    "zstd": numcodecs.Zstd(level=3),
    "zlib": numcodecs.Zlib(level=5),
    "gzip": numcodecs.GZip(level=5),
    "lz4": numcodecs.LZ4(),
}


def expected(spec, written_only=False):
    dt = np.dtype(spec["dtype"])
    n = int(np.prod(spec["shape"]))
    i = np.arange(n).reshape(spec["shape"])
    data = (i % 3 == 0) if dt == np.bool_ else (3 * i + 1).astype(dt)
    if written_only:
        return data[: spec["rows"]]
    out = np.full(spec["shape"], fill(spec), dtype=dt)
    out[: spec["rows"]] = data[: spec["rows"]]
    return out


def fill(spec):
    f = spec["fill"]
    return {"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}.get(f, f)


def main():
    cmd, root = sys.argv[1], sys.argv[2]
    specs = json.load(open(f"{root}/specs.json"))
    bad = 0
    for spec in specs:
        path = f"{root}/{spec['name']}"
        if cmd == "read":
            a = zarr.open_array(path, mode="r")
            want = expected(spec)
            ok = a.dtype == want.dtype and a.shape == want.shape and np.array_equal(
                a[...], want, equal_nan=want.dtype.kind == "f")
            if not ok:
                print(f"MISMATCH {spec['name']}: got {a[...]!r} want {want!r}", file=sys.stderr)
                bad += 1
        else:
            store = zarr.DirectoryStore(path, dimension_separator=spec["sep"])
            a = zarr.create(shape=spec["shape"], chunks=spec["chunks"], dtype=spec["dtype"],
                            fill_value=fill(spec), compressor=PYCODECS[spec["pycodec"]],
                            store=store)
            a[: spec["rows"]] = expected(spec, written_only=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
