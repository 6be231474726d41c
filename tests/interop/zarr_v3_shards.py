"""Sharded zarr v3 arrays built from the specification, not by DosNa.

zarr-python 2.13 (Debian's) has no v3 and zarrita.js 0.7.5 cannot write
sharded arrays, so the tests need an independent writer (and reader) of the
sharding_indexed codec (https://zarr-specs.readthedocs.io/en/latest/v3/codecs/sharding-indexed/):
a shard is the encoded inner chunks (C order over the shard's inner grid)
plus an index of (offset, nbytes) uint64 little-endian pairs per inner chunk,
2^64-1 twice for a chunk not stored, followed by its crc32c, at the end or
the start of the shard. Inner codecs: bytes (little) then optionally one of
numcodecs' Zstd, GZip, Blosc. Chunk keys `c/i/j/k`.

    write(directory, data, chunks, shards, fill, compressor=None, index_location='end')
    read(directory) -> numpy array
"""
import itertools
import json
import struct
from pathlib import Path

import crc32c
import numcodecs
import numpy as np

EMPTY = 2 ** 64 - 1
DATA_TYPES = {"|u1": "uint8", "<u2": "uint16", "<u4": "uint32", "<u8": "uint64",
              "|i1": "int8", "<i2": "int16", "<i4": "int32", "<i8": "int64",
              "<f4": "float32", "<f8": "float64", "|b1": "bool"}
COMPRESSORS = {
    None: (None, None),
    "zstd": (lambda t: numcodecs.Zstd(level=3),
             lambda t: {"name": "zstd", "configuration": {"level": 3, "checksum": False}}),
    "gzip": (lambda t: numcodecs.GZip(level=5),
             lambda t: {"name": "gzip", "configuration": {"level": 5}}),
    "blosc-lz4": (lambda t: numcodecs.Blosc("lz4", 5, numcodecs.Blosc.SHUFFLE),
                  lambda t: {"name": "blosc", "configuration": {
                      "cname": "lz4", "clevel": 5, "shuffle": "shuffle", "typesize": t.itemsize,
                      "blocksize": 0}}),
}


def _fill_json(value, dt):
    if dt.kind == "f":
        if np.isnan(value):
            return "NaN"
        if np.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return float(value)
    return bool(value) if dt.kind == "b" else int(value)


def _fill_value(j, dt):
    if isinstance(j, str):
        return {"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}[j]
    return j


def _grid(shape, step):
    return [range(-(-n // s)) for n, s in zip(shape, step)]


def write(directory, data, chunks, shards, fill, compressor=None, index_location="end"):
    """`data` as a sharded zarr v3 array in `directory`. Inner chunks equal to
    the fill everywhere are left out of their shard; shards with no stored
    chunk are not written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    dt = data.dtype
    make_codec, codec_json = COMPRESSORS[compressor]
    codec = make_codec(dt) if make_codec else None
    inner_codecs = [{"name": "bytes", "configuration": {"endian": "little"}}]
    if codec_json:
        inner_codecs.append(codec_json(dt))
    meta = {
        "zarr_format": 3, "node_type": "array", "shape": list(data.shape),
        "data_type": DATA_TYPES[dt.str], "fill_value": _fill_json(fill, dt),
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(shards)}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "codecs": [{"name": "sharding_indexed", "configuration": {
            "chunk_shape": list(chunks), "codecs": inner_codecs,
            "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                             {"name": "crc32c"}],
            "index_location": index_location}}],
        "attributes": {"written_by": "tests/interop/zarr_v3_shards.py"},
    }
    (directory / "zarr.json").write_text(json.dumps(meta))
    per_shard = [s // c for s, c in zip(shards, chunks)]
    n_inner = int(np.prod(per_shard))
    index_size = 16 * n_inner + 4
    for shard in itertools.product(*_grid(data.shape, shards)):
        pieces, entries = [], []
        offset = index_size if index_location == "start" else 0
        for inner in itertools.product(*[range(n) for n in per_shard]):
            lo = [s * sh + i * c for s, sh, i, c in zip(shard, shards, inner, chunks)]
            box = tuple(slice(a, min(a + c, n)) for a, c, n in zip(lo, chunks, data.shape))
            part = data[box] if all(b.start < b.stop for b in box) else data[:0]
            same = part.size == 0 or (np.isnan(fill) and dt.kind == "f" and np.isnan(part).all()) \
                or (part == np.asarray(fill, dtype=dt)).all()
            if same:
                entries.append((EMPTY, EMPTY))
                continue
            full = np.full(chunks, fill, dtype=dt)
            full[tuple(slice(0, b.stop - b.start) for b in box)] = part
            raw = full.astype(dt.newbyteorder("<")).tobytes()
            enc = bytes(codec.encode(raw)) if codec else raw
            entries.append((offset, len(enc)))
            pieces.append(enc)
            offset += len(enc)
        if not pieces:
            continue
        index = b"".join(struct.pack("<QQ", o, n) for o, n in entries)
        index += struct.pack("<I", crc32c.crc32c(index))
        body = b"".join(pieces)
        path = directory.joinpath("c", *map(str, shard))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(index + body if index_location == "start" else body + index)


def read(directory):
    """The whole sharded array of `directory` (inner codecs: bytes, then
    zstd/gzip/blosc through numcodecs; crc32c of the index checked)."""
    directory = Path(directory)
    meta = json.loads((directory / "zarr.json").read_text())
    dt = np.dtype({v: k for k, v in DATA_TYPES.items()}[meta["data_type"]])
    shape = meta["shape"]
    shards = meta["chunk_grid"]["configuration"]["chunk_shape"]
    (sharding,) = meta["codecs"]
    assert sharding["name"] == "sharding_indexed", sharding
    conf = sharding["configuration"]
    chunks = conf["chunk_shape"]
    endian = "<"
    decode = None
    for c in conf["codecs"]:
        if c["name"] == "bytes":
            endian = "<" if c.get("configuration", {}).get("endian", "little") == "little" else ">"
        elif c["name"] in ("zstd", "gzip", "blosc"):
            decode = numcodecs.get_codec({"id": c["name"]}).decode
        else:
            raise ValueError("codec %r not handled by this reader" % c["name"])
    assert [c["name"] for c in conf["index_codecs"]] == ["bytes", "crc32c"], conf["index_codecs"]
    fill = _fill_value(meta["fill_value"], dt)
    out = np.full(shape, fill, dtype=dt)
    per_shard = [s // c for s, c in zip(shards, chunks)]
    n_inner = int(np.prod(per_shard))
    index_size = 16 * n_inner + 4
    for shard in itertools.product(*_grid(shape, shards)):
        path = directory.joinpath("c", *map(str, shard))
        if not path.exists():
            continue
        blob = path.read_bytes()
        at_start = conf.get("index_location", "end") == "start"
        index = blob[:index_size] if at_start else blob[-index_size:]
        (crc,) = struct.unpack("<I", index[-4:])
        assert crc == crc32c.crc32c(index[:-4]), "crc32c of the index of %s" % path
        entries = struct.unpack("<%dQ" % (2 * n_inner), index[:-4])
        for k, inner in enumerate(itertools.product(*[range(n) for n in per_shard])):
            off, nbytes = entries[2 * k], entries[2 * k + 1]
            if off == EMPTY and nbytes == EMPTY:
                continue
            enc = blob[off:off + nbytes]
            raw = bytes(decode(enc)) if decode else enc
            full = np.frombuffer(raw, dtype=dt.newbyteorder(endian)).reshape(chunks)
            lo = [s * sh + i * c for s, sh, i, c in zip(shard, shards, inner, chunks)]
            box = tuple(slice(a, min(a + c, n)) for a, c, n in zip(lo, chunks, shape))
            if all(b.start < b.stop for b in box):
                out[box] = full[tuple(slice(0, b.stop - b.start) for b in box)]
    return out
