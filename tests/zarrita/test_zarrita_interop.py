"""zarrita.js (npm, pinned in tests/zarrita/package.json) against DosNa's zarr v3
arrays on the `file` store, both ways, through tests/zarrita/zarrita_interop.mjs:

- zarrita reads what DosNa writes: every dtype (u1..u8, i1..i8, f4, f8,
  bool) with every `compression=` (none, zstd, gzip, blosc-lz4, blosc-zstd)
  and with `codecs=` chains (transpose, big-endian bytes, crc32c, mixed with
  zstd / blosc); fill values (NaN, Infinity too); edge chunks on every axis;
  chunks never written.
- DosNa reads what zarrita writes with each codec zarrita 0.7.5 can encode.
- The checker itself reports a wrong value (one reference element changed).

The reference for every array is `<name>.bin` (the whole expected array, C
order, little-endian), written here and compared by the node script.
Run by scripts/tests.d/zarrita.sh, which installs the node modules first
(scripts/npm-deps.sh tests/zarrita)."""
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

import dosna as dn

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "zarrita_interop.mjs"

# numpy dtype -> zarr v3 data_type
DTYPES = {"|u1": "uint8", "<u2": "uint16", "<u4": "uint32", "<u8": "uint64",
          "|i1": "int8", "<i2": "int16", "<i4": "int32", "<i8": "int64",
          "<f4": "float32", "<f8": "float64", "|b1": "bool"}
SHAPE, CHUNKS, ROWS = (7, 5, 3), (3, 2, 2), 4  # edge chunks on each axis; rows 4.. never written


def _bytes(endian, dt=None):
    # zarrita 0.7.5 byte-swaps bool in groups of 4 under endian "big" (its
    # bytes codec misses BoolArray's element size), so bool stays "little".
    if dt is not None and dt.kind == "b":
        endian = "little"
    return {"name": "bytes", "configuration": {"endian": endian}}


def _blosc(cname, typesize):
    return {"name": "blosc", "configuration": {"cname": cname, "clevel": 5, "shuffle": "shuffle",
                                               "typesize": typesize, "blocksize": 0}}


ZSTD = {"name": "zstd", "configuration": {"level": 3, "checksum": False}}
CRC32C = {"name": "crc32c"}

# What DosNa writes with: each `compression=` of create_dataset, then full
# codec lists. Name -> extra create_dataset arguments; `codecs` is a function
# of the numpy dtype.
DOSNA_WRITES = {
    "none": {},
    "zstd": {"compression": "zstd"},
    "gzip": {"compression": "gzip"},
    "blosc-lz4": {"compression": "blosc-lz4"},
    "blosc-zstd": {"compression": "blosc-zstd"},
    "t-be-crc": {"codecs": lambda t: [{"name": "transpose", "configuration": {"order": [2, 0, 1]}},
                                      _bytes("big", t), CRC32C]},
    "be-zstd": {"codecs": lambda t: [_bytes("big", t), ZSTD]},
    "t-blosc-crc": {"codecs": lambda t: [
        {"name": "transpose", "configuration": {"order": [1, 0, 2]}},
        _bytes("little"), _blosc("lz4", t.itemsize), CRC32C]},
    # sharding_indexed over the inner CHUNKS (edge shards on every axis),
    # read by zarrita with ranged reads of its FileSystemStore. zarrita 0.7.5
    # ignores index_location (always reads a suffix), so these keep the index
    # at the end; tests/python/test_zarr_sharding.py covers "start".
    "shard-raw": {"shard_shape": (6, 4, 2)},
    "shard-zstd": {"shard_shape": (6, 4, 2), "compression": "zstd"},
    "shard-blosc": {"shard_shape": (3, 4, 4), "compression": "blosc-lz4"},
    "shard-t-crc": {"shard_shape": (6, 2, 4), "codecs": lambda t: [{
        "name": "sharding_indexed", "configuration": {
            "chunk_shape": list(CHUNKS), "index_location": "end",
            "codecs": [{"name": "transpose", "configuration": {"order": [2, 0, 1]}},
                       _bytes("little"), ZSTD, CRC32C],
            "index_codecs": [_bytes("little"), CRC32C]}}]},
}

# What zarrita 0.7.5 writes with: every codec it can encode. Its gzip, zlib and
# crc32c codecs decode only ("Unsupported: gzip encode"), and `set` on a
# sharded array is UnsupportedError.
ZARRITA_WRITES = {
    "raw": lambda t: [_bytes("little")],
    "be": lambda t: [_bytes("big", t)],
    "transpose": lambda t: [{"name": "transpose", "configuration": {"order": [2, 1, 0]}},
                            _bytes("little")],
    "zstd": lambda t: [_bytes("little"), ZSTD],
    "blosc-lz4": lambda t: [_bytes("little"), _blosc("lz4", t.itemsize)],
    "blosc-zstd": lambda t: [_bytes("little"), _blosc("zstd", t.itemsize)],
    "t-be-zstd": lambda t: [{"name": "transpose", "configuration": {"order": [1, 2, 0]}},
                            _bytes("big", t), ZSTD],
}


def fill_of(dtype, k):
    kind = np.dtype(dtype).kind
    if kind == "b":
        return True
    if kind == "f":
        return [np.nan, np.inf, -2.5][k % 3]
    return 9 if kind == "u" else -7


def fill_json(value):
    if isinstance(value, bool) or not isinstance(value, float):
        return value
    if np.isnan(value):
        return "NaN"
    return {np.inf: "Infinity", -np.inf: "-Infinity"}.get(value, value)


def expected(dtype, fill):
    """The whole array: the first ROWS rows hold values using every bit of
    the type (negative for signed), the rest is the fill value."""
    dt = np.dtype(dtype)
    i = np.arange(int(np.prod(SHAPE)), dtype=np.uint64).reshape(SHAPE)
    if dt.kind == "b":
        data = i % 3 == 0
    elif dt.kind == "f":
        data = ((i.astype(np.float64) - 17) / 3).astype(dt)
    else:
        data = (i * np.uint64(0x9E3779B97F4A7C15) + np.uint64(1)).astype(dt)
    out = np.full(SHAPE, fill, dtype=dt)
    out[:ROWS] = data[:ROWS]
    return out


def cases(writes):
    out = []
    for k, (dtype, (codec, how)) in enumerate(
            (d, w) for d in DTYPES for w in writes.items()):
        out.append({"name": f"{codec}-{DTYPES[dtype]}", "numpy": dtype, "dtype": DTYPES[dtype],
                    "fill": fill_of(dtype, k), "how": how})
    return out


def write_specs(root, specs, codecs=False):
    """specs.json for the node script and each array's reference .bin."""
    doc = []
    for s in specs:
        want = expected(s["numpy"], s["fill"])
        (root / f"{s['name']}.bin").write_bytes(want.astype(want.dtype.newbyteorder("<")).tobytes())
        spec = {"name": s["name"], "dtype": s["dtype"], "shape": list(SHAPE),
                "chunks": list(CHUNKS), "fill": fill_json(s["fill"]), "rows": ROWS}
        if codecs:
            spec["codecs"] = s["how"](np.dtype(s["numpy"]))
        doc.append(spec)
    (root / "specs.json").write_text(json.dumps(doc))


def zarrita(cmd, root):
    assert (HERE / "node_modules/zarrita").is_dir(), \
        "zarrita is not installed: run scripts/npm-deps.sh tests/zarrita"
    version = json.loads((HERE / "node_modules/zarrita/package.json").read_text())["version"]
    assert version == json.loads((HERE / "package.json").read_text())["dependencies"]["zarrita"]
    return subprocess.run(["node", str(SCRIPT), cmd, str(root)], capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def store(tmp_path):
    root = tmp_path / "z"
    root.mkdir()
    con = dn.Connection("z", backend="file", directory=str(tmp_path), engine="cpu")
    con.connect()
    yield root, con
    con.disconnect()


def dosna_write(con, s):
    kw = {k: v(np.dtype(s["numpy"])) if k == "codecs" else v for k, v in s["how"].items()}
    ds = con.create_dataset(s["name"], shape=SHAPE, dtype=s["numpy"], chunk_size=CHUNKS,
                            format="zarr3", fillvalue=s["fill"], **kw)
    ds[:ROWS] = expected(s["numpy"], s["fill"])[:ROWS]
    return ds


def codec_names(codecs):
    """Names of a v3 codec list, a sharding_indexed one followed by its inner codecs."""
    names = [c["name"] for c in codecs]
    if names == ["sharding_indexed"]:
        names += codec_names(codecs[0]["configuration"]["codecs"])
    return names


def test_zarrita_reads_what_dosna_wrote(store):
    root, con = store
    specs = cases(DOSNA_WRITES)
    for s in specs:
        dosna_write(con, s)
        kw = s["how"]
        want = (codec_names(kw["codecs"](np.dtype(s["numpy"]))) if "codecs" in kw else
                ["bytes"] + ([kw["compression"].split("-")[0]] if "compression" in kw else []))
        if "shard_shape" in kw and want[0] != "sharding_indexed":
            want = ["sharding_indexed"] + want
        meta = json.loads((root / s["name"] / "zarr.json").read_text())
        assert codec_names(meta["codecs"]) == want, s["name"]
    write_specs(root, specs)
    p = zarrita("read", root)
    assert p.returncode == 0, p.stderr


def test_dosna_reads_what_zarrita_wrote(store):
    root, con = store
    specs = cases(ZARRITA_WRITES)
    write_specs(root, specs, codecs=True)
    p = zarrita("write", root)
    assert p.returncode == 0, p.stderr
    bad = []
    for s in specs:
        meta = json.loads((root / s["name"] / "zarr.json").read_text())
        assert codec_names(meta["codecs"]) == codec_names(s["how"](np.dtype(s["numpy"])))
        ds = con.get_dataset(s["name"])
        assert ds.format == "zarr3"
        got, want = ds[...], expected(s["numpy"], s["fill"])
        if got.dtype != want.dtype or got.shape != want.shape or not np.array_equal(
                got, want, equal_nan=want.dtype.kind == "f"):
            bad.append(f"{s['name']}: got {got!r} want {want!r}")
    assert not bad, "\n".join(bad)


def test_a_wrong_value_fails_the_check(store):
    root, con = store
    specs = [s for s in cases(DOSNA_WRITES) if s["name"] in ("zstd-int64", "none-float32")]
    for s in specs:
        dosna_write(con, s)
    write_specs(root, specs)
    ref = root / "zstd-int64.bin"
    data = bytearray(ref.read_bytes())
    data[8 * 13] ^= 1
    ref.write_bytes(bytes(data))
    p = zarrita("read", root)
    assert p.returncode == 1
    assert "MISMATCH zstd-int64: element 13" in p.stderr and "none-float32" not in p.stderr, p.stderr
