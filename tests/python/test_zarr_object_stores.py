"""zarr v2 arrays on ceph and s3 against zarr-python 2.13.

DosNa writes a zarr2 array into a ceph pool (objects `vol/.zarray`,
`vol/0.0`) or an s3 bucket (`vol` holding `.zarray`, `0.0` at its root); the
test copies those objects into a directory with librados / boto3 and
zarr-python opens it. The reverse: zarr-python writes a directory, the test
uploads its files and DosNa reads them. The same both ways for sharded zarr
v3 arrays, against the spec-built reader/writer tests/interop/zarr_v3_shards.py.
Layout: docs/format.md "Zarr", "Zarr sharding".
"""
import os
import sys

import numpy as np
import pytest
import zarr

import dosna as dn
from conftest import unique, usable_store

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'interop'))
import zarr_v3_shards  # noqa: E402

STORES = [b for b in ('ceph', 's3') if b in dn.backends.KNOWN]
COMPRESSIONS = [None, 'blosc-lz4', 'zstd']


class Objects(object):
    """The raw objects of one array (`prefix`) in the store under test."""

    def __init__(self, backend, name):
        self.backend = backend
        self.name = name
        if backend == 'ceph':
            import rados
            self.cluster = rados.Rados(conffile=os.environ['CEPH_CONF'])
            self.cluster.connect()
            self.io = self.cluster.open_ioctx(os.environ['DOSNA_CEPH_POOL'])
        else:
            import boto3
            self.s3 = boto3.client('s3', endpoint_url=os.environ['DOSNA_S3_ENDPOINT'])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.backend == 'ceph':
            self.io.close()
            self.cluster.shutdown()

    def download(self, directory):
        """Every object of the array as a file under `directory`; their names."""
        names = []
        if self.backend == 'ceph':
            for obj in self.io.list_objects():
                if obj.key.startswith(self.name + '/'):
                    names.append(obj.key[len(self.name) + 1:])
            for key in names:
                data = self.io.read(self.name + '/' + key, self.io.stat(self.name + '/' + key)[0])
                path = directory / key
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
        else:
            pages = self.s3.get_paginator('list_objects_v2').paginate(Bucket=self.name)
            for page in pages:
                for item in page.get('Contents', []):
                    names.append(item['Key'])
                    path = directory / item['Key']
                    path.parent.mkdir(parents=True, exist_ok=True)
                    body = self.s3.get_object(Bucket=self.name, Key=item['Key'])['Body'].read()
                    path.write_bytes(body)
        return sorted(names)

    def upload(self, directory):
        if self.backend == 's3':
            self.s3.create_bucket(Bucket=self.name)
        for path in sorted(directory.rglob('*')):
            if path.is_file():
                key = path.relative_to(directory).as_posix()
                if self.backend == 'ceph':
                    self.io.write_full(self.name + '/' + key, path.read_bytes())
                else:
                    self.s3.put_object(Bucket=self.name, Key=key, Body=path.read_bytes())


@pytest.fixture(params=STORES)
def store(request, tmp_path):
    s = usable_store(request.param, 'cpu', tmp_path)
    con = s.connection()
    con.connect()
    made = []
    yield s, con, made
    for name in made:
        if con.has_dataset(name):
            con.del_dataset(name)
    con.disconnect()


def volume(shape, dtype):
    rng = np.random.default_rng(7)
    return rng.integers(0, 200, size=shape).astype(dtype)


@pytest.mark.parametrize('compression', COMPRESSIONS)
def test_zarr_python_reads_what_dosna_writes(store, tmp_path, compression):
    s, con, made = store
    name = unique('zw')
    data = volume((37, 21), 'u2')
    made.append(name)
    ds = con.create_dataset(name, data=data, chunk_size=(16, 8), format='zarr2',
                            compression=compression, fillvalue=3)
    assert ds.format == 'zarr2'
    with Objects(s.backend, name) as objects:
        keys = objects.download(tmp_path / 'copy')
    assert '.zarray' in keys and '0.0' in keys, keys
    z = zarr.open(str(tmp_path / 'copy'), mode='r')
    np.testing.assert_array_equal(z[...], data)
    assert z.fill_value == 3
    assert (z.compressor is None) == (compression is None)


@pytest.mark.parametrize('compressor', [None, 'blosc', 'zstd'])
def test_dosna_reads_what_zarr_python_writes(store, tmp_path, compressor):
    import numcodecs
    s, con, made = store
    name = unique('zr')
    data = volume((19, 30), 'f4')
    codec = {None: None, 'blosc': numcodecs.Blosc('lz4', 5, numcodecs.Blosc.SHUFFLE),
             'zstd': numcodecs.Zstd(3)}[compressor]
    z = zarr.open(str(tmp_path / 'arr'), mode='w', shape=data.shape, chunks=(8, 8),
                  dtype='f4', compressor=codec, fill_value=-1.0)
    z[:, :25] = data[:, :25]  # the last chunk column is never written: fill
    made.append(name)
    with Objects(s.backend, name) as objects:
        objects.upload(tmp_path / 'arr')
    assert name in con.list_datasets()
    ds = con.get_dataset(name)
    assert ds.format == 'zarr2'
    expected = data.copy()
    expected[:, 25:] = -1.0
    np.testing.assert_array_equal(ds[...], expected)
    ds[0, 29] = 5.0
    assert z[0, 29] == -1.0  # DosNa wrote to the store, not the directory
    assert ds[0, 29] == 5.0


def test_location_names_the_object_prefix(store):
    s, con, made = store
    name = unique('zl')
    made.append(name)
    ds = con.create_dataset(name, shape=(4, 4), dtype='u1', format='zarr3')
    if s.backend == 's3':
        assert ds.location.startswith('s3://' + name + ' at http'), ds.location
    else:
        assert name + '/' in ds.location and 'ceph pool' in ds.location, ds.location


def test_spec_reader_reads_sharded_objects_dosna_writes(store, tmp_path):
    s, con, made = store
    name = unique('zs')
    data = volume((40, 24, 9), 'u2')
    made.append(name)
    ds = con.create_dataset(name, data=data, chunk_size=(8, 8, 3), format='zarr3',
                            compression='zstd', shard_shape=(16, 16, 6), fillvalue=0)
    ds[3:30, 5:20, 2:8] = data[3:30, 5:20, 2:8] + 1  # partial shard rewrites
    data[3:30, 5:20, 2:8] += 1
    with Objects(s.backend, name) as objects:
        keys = objects.download(tmp_path / 'copy')
    assert 'zarr.json' in keys and 'c/2/1/1' in keys and len(keys) == 1 + 3 * 2 * 2, keys
    np.testing.assert_array_equal(zarr_v3_shards.read(tmp_path / 'copy'), data)


def test_dosna_reads_sharded_objects_built_from_the_spec(store, tmp_path):
    s, con, made = store
    name = unique('zt')
    data = volume((21, 17), 'f4')
    data[:, 8:] = -1.0  # shards of fill only: not written
    zarr_v3_shards.write(tmp_path / 'arr', data, (4, 4), (8, 8), -1.0, 'blosc-lz4', 'start')
    made.append(name)
    with Objects(s.backend, name) as objects:
        objects.upload(tmp_path / 'arr')
    ds = con.get_dataset(name)
    assert ds.format == 'zarr3' and ds.chunk_size == (4, 4)
    np.testing.assert_array_equal(ds[...], data)
    np.testing.assert_array_equal(ds[5:19, 3:9], data[5:19, 3:9])
