"""Sharded zarr v3 datasets from Python (create_dataset(shard_shape=...)).

- DosNa reads sharded arrays built from the specification by someone else
  (tests/interop/zarr_v3_shards.py: index at start or end, inner codecs raw,
  zstd, gzip, blosc; inner chunks and whole shards left out; edge shards).
- That independent reader reads what DosNa writes, after random partial
  writes that each rewrite part of a shard.
- Errors of create: shard_shape not a multiple of chunk_size, codecs with
  sharding_indexed but no shard_shape; nothing is created.
On ceph and s3 the same two directions run through the raw objects
(tests/python/test_zarr_object_stores.py). Layout: docs/format.md "Zarr sharding".
"""
import os
import sys

import numpy as np
import pytest

import dosna as dn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'interop'))
import zarr_v3_shards  # noqa: E402

SHAPE, CHUNKS, SHARDS = (13, 10, 7), (3, 4, 2), (6, 8, 4)  # edge shards and edge inner chunks


def reference(dtype, fill, seed=3):
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == 'b':
        data = rng.integers(0, 2, size=SHAPE).astype(bool)
    elif dt.kind == 'f':
        data = rng.normal(size=SHAPE).astype(dt)
    else:
        data = rng.integers(0, 100, size=SHAPE).astype(dt)
    data[:, 8:, :] = fill  # inner chunks (and a shard column) equal to the fill: not stored
    return data


@pytest.fixture
def files(tmp_path):
    (tmp_path / 'z').mkdir()
    con = dn.Connection('z', backend='file', directory=str(tmp_path), engine='threads')
    con.connect()
    yield tmp_path / 'z', con
    con.disconnect()


@pytest.mark.parametrize('dtype,fill', [('<u2', 9), ('<f4', np.nan), ('<i8', -7), ('|b1', False)])
@pytest.mark.parametrize('compressor', [None, 'zstd', 'gzip', 'blosc-lz4'])
@pytest.mark.parametrize('index_location', ['end', 'start'])
def test_dosna_reads_shards_built_from_the_spec(files, dtype, fill, compressor, index_location):
    root, con = files
    data = reference(dtype, fill)
    zarr_v3_shards.write(root / 'vol', data, CHUNKS, SHARDS, fill, compressor, index_location)
    assert not (root / 'vol' / 'c' / '0' / '1' / '0').exists()  # a shard of fill only: absent
    ds = con.get_dataset('vol')
    assert ds.format == 'zarr3'
    assert ds.chunk_size == CHUNKS
    np.testing.assert_array_equal(ds[...], data)
    np.testing.assert_array_equal(ds[4:11, 3:9, 1:6], data[4:11, 3:9, 1:6])
    ds[5:8, 1:3, 2:5] = data[5:8, 1:3, 2:5][::-1]  # a partial rewrite keeps the spec layout
    data[5:8, 1:3, 2:5] = data[5:8, 1:3, 2:5][::-1].copy()
    np.testing.assert_array_equal(zarr_v3_shards.read(root / 'vol'), data)


@pytest.mark.parametrize('compression', [None, 'zstd', 'blosc-lz4'])
def test_spec_reader_reads_what_dosna_writes(files, compression):
    root, con = files
    want = np.full(SHAPE, 5, dtype='<u4')
    ds = con.create_dataset('vol', shape=SHAPE, dtype='<u4', chunk_size=CHUNKS, format='zarr3',
                            compression=compression, shard_shape=SHARDS, fillvalue=5)
    rng = np.random.default_rng(11)
    for _ in range(12):
        lo = [int(rng.integers(0, n)) for n in SHAPE]
        hi = [int(rng.integers(a + 1, n + 1)) for a, n in zip(lo, SHAPE)]
        box = tuple(slice(a, b) for a, b in zip(lo, hi))
        block = rng.integers(0, 1 << 30, size=[b - a for a, b in zip(lo, hi)]).astype('<u4')
        ds[box] = block
        want[box] = block
    np.testing.assert_array_equal(zarr_v3_shards.read(root / 'vol'), want)
    np.testing.assert_array_equal(con.get_dataset('vol')[...], want)
    # one object per shard: 3 x 2 x 2 shards at most, never an inner chunk key
    stored = sorted(p.relative_to(root / 'vol' / 'c').as_posix()
                    for p in (root / 'vol' / 'c').rglob('*') if p.is_file())
    assert stored and all(len(k.split('/')) == 3 for k in stored), stored
    assert all(int(i) < n for k in stored for i, n in zip(k.split('/'), (3, 2, 2))), stored


def test_expert_codecs_put_the_index_at_the_start(files):
    root, con = files
    inner = [{'name': 'bytes', 'configuration': {'endian': 'little'}},
             {'name': 'zstd', 'configuration': {'level': 1, 'checksum': False}}]
    codecs = [{'name': 'sharding_indexed', 'configuration': {
        'chunk_shape': list(CHUNKS), 'codecs': inner,
        'index_codecs': [{'name': 'bytes', 'configuration': {'endian': 'little'}}, {'name': 'crc32c'}],
        'index_location': 'start'}}]
    data = reference('<u2', 9)
    con.create_dataset('vol', data=data, chunk_size=CHUNKS, format='zarr3', fillvalue=9,
                       shard_shape=SHARDS, codecs=codecs)
    import json
    meta = json.loads((root / 'vol' / 'zarr.json').read_text())
    assert meta['codecs'][0]['configuration']['index_location'] == 'start'
    assert meta['chunk_grid']['configuration']['chunk_shape'] == list(SHARDS)
    np.testing.assert_array_equal(zarr_v3_shards.read(root / 'vol'), data)


def test_bad_shard_shapes_create_nothing(files):
    root, con = files
    with pytest.raises(ValueError, match='multiple of chunk_size'):
        con.create_dataset('a', shape=SHAPE, chunk_size=CHUNKS, format='zarr3', shard_shape=(6, 8, 3))
    with pytest.raises(ValueError, match='axes'):
        con.create_dataset('a', shape=SHAPE, chunk_size=CHUNKS, format='zarr3', shard_shape=(6, 8))
    with pytest.raises(ValueError, match='zarr v2 has no sharding'):
        con.create_dataset('a', shape=SHAPE, chunk_size=CHUNKS, format='zarr2', shard_shape=SHARDS)
    sharding = [{'name': 'sharding_indexed', 'configuration': {
        'chunk_shape': [3, 4, 1], 'codecs': [{'name': 'bytes'}],
        'index_codecs': [{'name': 'bytes'}]}}]
    with pytest.raises(ValueError, match='needs shard_shape'):
        con.create_dataset('a', shape=SHAPE, chunk_size=CHUNKS, format='zarr3', codecs=sharding)
    with pytest.raises(ValueError, match='differs from chunk_size'):
        con.create_dataset('a', shape=SHAPE, chunk_size=CHUNKS, format='zarr3', codecs=sharding,
                           shard_shape=SHARDS)
    assert con.list_datasets() == []
    assert not (root / 'a').exists()


def test_damaged_shard_index_is_an_io_error_naming_the_shard(files):
    root, con = files
    data = reference('<u2', 9)
    con.create_dataset('vol', data=data, chunk_size=CHUNKS, format='zarr3', fillvalue=9,
                       shard_shape=SHARDS)
    shard = root / 'vol' / 'c' / '1' / '0' / '1'
    blob = bytearray(shard.read_bytes())
    blob[-6] ^= 0xFF  # inside the index: its crc32c no longer matches
    shard.write_bytes(bytes(blob))
    ds = con.get_dataset('vol')
    with pytest.raises(dn.IoError, match='c/1/0/1'):
        ds[6:12, 0:8, 4:7]
    np.testing.assert_array_equal(ds[0:6], data[0:6])  # the other shards still read
