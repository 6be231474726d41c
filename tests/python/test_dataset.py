"""The Dataset/DataChunk API over every backend x engine."""

import numpy as np
import pytest

import dosna as dn


def test_create_get_has_del(con, new_name):
    name = new_name()
    assert not con.has_dataset(name)
    assert name not in con
    ds = con.create_dataset(name, shape=(10, 20), dtype=np.int16, fillvalue=7,
                            chunk_size=(4, 8))
    assert con.has_dataset(name) and name in con
    assert name in con.list_datasets()
    assert ds.name == name
    assert ds.shape == (10, 20) and ds.ndim == 2
    assert ds.dtype == np.int16
    assert ds.fillvalue == 7
    assert ds.chunk_size == (4, 8)
    assert ds.chunk_grid == (3, 3)
    assert ds.total_chunks == 9
    assert ds.connection is con
    assert con.get_dataset(name).shape == (10, 20)
    assert con[name].chunk_size == (4, 8)
    np.testing.assert_array_equal(ds[...], np.full((10, 20), 7, np.int16))
    with pytest.raises(dn.AlreadyExistsError):
        con.create_dataset(name, shape=(3,))
    con.del_dataset(name)
    assert name not in con
    with pytest.raises(dn.DatasetNotFoundError):
        con.get_dataset(name)
    with pytest.raises(dn.backends.base.DatasetNotFoundError):
        con[name]
    with pytest.raises(KeyError):
        con.del_dataset(name)


def test_create_from_data_and_slicing(con, new_name):
    data = np.random.RandomState(1).randn(30, 17, 9).astype(np.float32)
    ds = con.create_dataset(new_name(), data=data, chunk_size=(8, 8, 8))
    assert ds.dtype == np.float32
    np.testing.assert_array_equal(ds[...], data)
    np.testing.assert_array_equal(ds[:], data)
    np.testing.assert_array_equal(ds[0, 0, :5], data[0, 0, :5])
    np.testing.assert_array_equal(ds[::-2, 3:-1:3, -1], data[::-2, 3:-1:3, -1])
    np.testing.assert_array_equal(ds[..., 4], data[..., 4])
    np.testing.assert_array_equal(ds[5, None, ..., None], data[5, None, ..., None])
    assert ds[1, 2, 3] == data[1, 2, 3]
    assert isinstance(ds[1, 2, 3], np.float32)
    assert ds[np.int64(1), np.int32(2), 3] == data[1, 2, 3]
    np.testing.assert_array_equal(ds.get_data((slice(2, 9), slice(None), 0)), data[2:9, :, 0])
    np.testing.assert_array_equal(ds.get_data(), data)
    np.testing.assert_array_equal(np.asarray(ds), data)
    assert len(ds) == 30
    with pytest.raises(IndexError):
        ds[30]
    with pytest.raises(IndexError):
        ds[0, 0, 0, 0]
    with pytest.raises(IndexError):
        ds[[1, 2]]
    with pytest.raises(ValueError):
        ds[::0]


def test_read_many_equals_reading_each_key(con, new_name):
    data = np.random.RandomState(2).randn(30, 17, 9).astype(np.float32)
    ds = con.create_dataset(new_name(), data=data, chunk_size=(8, 8, 4))
    keys = [np.s_[2:20, 3:15, 1:8], np.s_[::-2, 3:-1:3, -1], np.s_[..., 4],
            np.s_[5, None, ..., None], (1, 2, 3), np.s_[4:4], Ellipsis, slice(None),
            np.s_[2:20, 3:15, 1:8], 7]
    got = ds.read_many(keys)
    assert isinstance(got, list) and len(got) == len(keys)
    for key, g in zip(keys, got):
        want = data[key]
        assert type(g) is type(want), key
        np.testing.assert_array_equal(g, want)
        assert np.shape(g) == np.shape(want), key
    assert isinstance(got[4], np.float32)
    got[0][...] = 0  # results are independent arrays
    np.testing.assert_array_equal(got[8], data[2:20, 3:15, 1:8])
    assert ds.read_many([]) == []
    assert len(ds.read_many(tuple(keys[:2]))) == 2


def test_read_many_rejects_bad_keys(con, new_name):
    ds = con.create_dataset(new_name(), data=np.arange(24, dtype=np.int32).reshape(6, 4),
                            chunk_size=(4, 3))
    with pytest.raises(IndexError, match='selection 2 of 3'):
        ds.read_many([0, np.s_[1:3], (0, 4)])
    with pytest.raises(IndexError):
        ds.read_many([(0, 0, 0)])
    with pytest.raises(ValueError):
        ds.read_many([np.s_[::0]])
    with pytest.raises(TypeError):
        ds.read_many(np.s_[1:3])
    with pytest.raises(TypeError):
        ds.read_many('0')
    with pytest.raises(IndexError):  # like ds[1.5] and numpy
        ds.read_many([1.5])
    np.testing.assert_array_equal(ds[...], np.arange(24, dtype=np.int32).reshape(6, 4))


def test_set_broadcast_scalars(con, new_name):
    ref = np.zeros((12, 10, 7), np.float64)
    ds = con.create_dataset(new_name(), shape=ref.shape, dtype=np.float64, chunk_size=(5, 4, 3))
    ds[2:9, 1, :] = 3.5
    ref[2:9, 1, :] = 3.5
    ds[..., 2] = np.arange(10)            # broadcast along axis 0
    ref[..., 2] = np.arange(10)
    block = np.random.RandomState(2).rand(4, 10, 7)
    ds[8:, :, :] = block[::-1]             # negative strides
    ref[8:, :, :] = block[::-1]
    ds[0] = np.ones((1, 10, 7))            # leading 1 dropped as numpy does
    ref[0] = np.ones((1, 10, 7))
    ds[1, 1, 1] = np.int8(9)               # cast to the dataset's dtype
    ref[1, 1, 1] = 9
    ds[3, :, None, 0] = np.arange(10)[:, None]
    ref[3, :, None, 0] = np.arange(10)[:, None]
    ds.set_data(np.float32(-1), (slice(5, 6), slice(None), slice(0, 2)))
    ref[5:6, :, 0:2] = -1
    np.testing.assert_array_equal(ds[...], ref)
    with pytest.raises(ValueError):
        ds[0:2] = np.ones((3, 10, 7))
    np.testing.assert_array_equal(ds[...], ref)
    ds.set_data(ref * 2)
    np.testing.assert_array_equal(ds[...], ref * 2)


def test_dtypes(con, new_name):
    for dt in (np.bool_, np.int8, np.uint16, np.int32, np.uint64, np.float32, np.float64,
               np.complex64, np.complex128):
        data = (np.arange(24).reshape(4, 6) % 5).astype(dt)
        ds = con.create_dataset(new_name(), data=data, chunk_size=(3, 4))
        assert ds.dtype == dt
        np.testing.assert_array_equal(ds[...], data)
        ds[1:3, 2:5] = data[:2, :3]
        ref = data.copy()
        ref[1:3, 2:5] = data[:2, :3]
        np.testing.assert_array_equal(ds[...], ref)


def test_load_clear_delete(con, new_name, store):
    name = new_name()
    ds = con.create_dataset(name, shape=(9, 9), dtype=np.float32, fillvalue=-1, chunk_size=(4, 4))
    data = np.arange(81, dtype=np.float64).reshape(9, 9)
    ds.load(data)  # converted to float32 once
    np.testing.assert_array_equal(ds[...], data.astype(np.float32))
    assert ds.has_chunk((2, 2))
    with pytest.raises(ValueError):
        ds.load(np.zeros((8, 9)))
    ds.clear()
    assert not ds.has_chunk((0, 0))
    np.testing.assert_array_equal(ds[...], np.full((9, 9), -1, np.float32))
    ds.delete()
    assert name not in con


def test_map_apply_clone(con, new_name):
    data = np.random.RandomState(3).rand(20, 11).astype(np.float32)
    ds = con.create_dataset(new_name(), data=data, chunk_size=(6, 4), fillvalue=0)
    seen = []

    def double(chunk):
        assert isinstance(chunk, np.ndarray) and chunk.dtype == np.float32
        seen.append(chunk.shape)
        return chunk * 2

    out = ds.map(double, new_name())
    con.tracked.append(out.name)
    assert len(seen) == ds.total_chunks
    assert out.shape == ds.shape and out.chunk_size == ds.chunk_size
    np.testing.assert_allclose(out[...], data * 2)

    def inplace(chunk):
        chunk += 1
        return chunk

    ds.apply(inplace)
    np.testing.assert_allclose(ds[...], data + 1)
    ds.apply(lambda c: np.zeros_like(c, dtype=np.float64))  # cast back to float32
    np.testing.assert_array_equal(ds[...], np.zeros_like(data))

    def wrong_shape(chunk):
        return chunk[:1]

    with pytest.raises(ValueError):
        ds.apply(wrong_shape)

    def boom(chunk):
        raise RuntimeError('boom from python')

    with pytest.raises(RuntimeError, match='boom'):
        ds.apply(boom)

    empty = ds.clone(new_name())
    assert empty.shape == ds.shape and empty.dtype == ds.dtype
    assert empty.fillvalue == ds.fillvalue and empty.chunk_size == ds.chunk_size
    assert not empty.has_chunk((0, 0))


def test_chunk_api(con, new_name):
    ds = con.create_dataset(new_name(), shape=(10, 10), dtype=np.int32, fillvalue=5,
                            chunk_size=(4, 4))
    assert not ds.has_chunk((1, 1))
    c = ds.get_chunk((1, 1))
    assert c.shape == (4, 4) and c.size == 16 and c.dtype == np.int32
    assert c.fillvalue == 5 and c.byte_count == 64
    assert c.name.endswith('1.1')
    np.testing.assert_array_equal(c.get_data(), np.full((4, 4), 5))
    ds.create_chunk((0, 1), data=np.arange(4), slices=(slice(1, 2), slice(None)))
    assert ds.has_chunk((0, 1))
    np.testing.assert_array_equal(ds[1, 4:8], np.arange(4))
    np.testing.assert_array_equal(ds[0, 4:8], np.full(4, 5))
    ds.set_chunk_data((2, 2), np.full((2, 2), 9), slices=(slice(0, 2), slice(0, 2)))
    np.testing.assert_array_equal(ds[8:10, 8:10], np.full((2, 2), 9))
    np.testing.assert_array_equal(ds.get_chunk_data((2, 2), slices=(slice(0, 2), 1)), [9, 9])
    c = ds.get_chunk((2, 0))
    c[...] = 1
    c[0, :] = np.arange(4)
    assert c[0, 3] == 3
    np.testing.assert_array_equal(c.get_data((0, slice(None))), np.arange(4))
    c.set_data(7, (slice(1, 2), slice(0, 1)))
    assert ds[9, 0] == 7
    assert ds.del_chunk((2, 0))
    assert not ds.has_chunk((2, 0))
    with pytest.raises(IndexError):
        ds.get_chunk((3, 0))


def test_connection_context_and_status(store):
    with store.connection() as c:
        assert c.connected
        assert c.name == store.name
        assert c.mode == 'a'
        assert c.mpi_size == 1 and c.mpi_rank == 0 and c.mpi_is_root
    assert not c.connected
