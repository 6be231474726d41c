"""ds.resize / ds.append / ds.attrs on every store x engine (dosna layout),
and on zarr3/zarr2 where zarr-python reads them back (file store).
Layout: docs/format.md "Attributes", "Resize"."""
import json

import numpy as np
import pytest
import zarr

import dosna as dn


def test_resize_shrink_then_grow_reads_fill(con, new_name):
    name = new_name()
    data = np.arange(90, dtype='i4').reshape(10, 9)
    ds = con.create_dataset(name, data=data, chunk_size=(4, 4), fillvalue=7)
    ds.resize((6, 5))
    assert ds.shape == (6, 5)
    np.testing.assert_array_equal(con.get_dataset(name)[...], data[:6, :5])
    ds.resize([10, 11])
    want = np.full((10, 11), 7, dtype='i4')
    want[:6, :5] = data[:6, :5]
    np.testing.assert_array_equal(con.get_dataset(name)[...], want)
    with pytest.raises(ValueError, match='axes'):
        ds.resize((3,))
    assert con.get_dataset(name).shape == (10, 11)


def test_append_along_axes(con, new_name):
    name = new_name()
    ds = con.create_dataset(name, data=np.zeros((2, 3), dtype='u2'), chunk_size=(2, 2))
    ds.append(np.ones((3, 3), dtype='u2'))
    ds.append([[5], [5], [5], [5], [5]], axis=1)
    want = np.zeros((5, 4), dtype='u2')
    want[2:, :3] = 1
    want[:, 3] = 5
    np.testing.assert_array_equal(con.get_dataset(name)[...], want)
    with pytest.raises(ValueError, match='other axes must match'):
        ds.append(np.ones((1, 3), dtype='u2'))
    assert con.get_dataset(name).shape == (5, 4)


def test_attrs_are_a_json_mapping(con, new_name):
    name = new_name()
    ds = con.create_dataset(name, shape=(4, 4), dtype='f4', chunk_size=(2, 2))
    assert dict(ds.attrs) == {} and len(ds.attrs) == 0
    ds.attrs['units'] = 'nm'
    ds.attrs.update(spacing=[1.5, 1.5], n=np.int64(3), mask=np.array([True, False]))
    again = con.get_dataset(name)
    assert again.attrs.asdict() == {'units': 'nm', 'spacing': [1.5, 1.5], 'n': 3,
                                    'mask': [True, False]}
    assert 'units' in again.attrs and again.attrs['n'] == 3
    del again.attrs['units']
    assert 'units' not in ds.attrs
    with pytest.raises(KeyError):
        ds.attrs['nope']
    with pytest.raises(TypeError, match='not JSON'):
        ds.attrs['bad'] = object()
    with pytest.raises(ValueError, match='JSON'):
        ds.attrs['bad'] = float('nan')
    assert sorted(ds.attrs) == ['mask', 'n', 'spacing']


@pytest.mark.parametrize('fmt', ['zarr3', 'zarr2'])
def test_zarr_attrs_and_resize_are_what_zarr_python_sees(tmp_path, fmt):
    (tmp_path / 's').mkdir()
    con = dn.Connection('s', backend='file', directory=str(tmp_path), engine='threads')
    con.connect()
    try:
        data = np.arange(60, dtype='i2').reshape(6, 10)
        ds = con.create_dataset('vol', data=data, chunk_size=(4, 4), format=fmt, fillvalue=-1)
        ds.attrs.update(units='nm', axes=['y', 'x'])
        ds.resize((5, 6))
        root = tmp_path / 's' / 'vol'
        if fmt == 'zarr3':
            meta = json.loads((root / 'zarr.json').read_text())
            assert meta['attributes'] == {'units': 'nm', 'axes': ['y', 'x']}
            assert meta['shape'] == [5, 6]
        else:
            z = zarr.open(str(root), mode='r')
            assert z.shape == (5, 6)
            assert dict(z.attrs) == {'units': 'nm', 'axes': ['y', 'x']}
            np.testing.assert_array_equal(z[...], data[:5, :6])
            assert sorted(p.name for p in root.iterdir() if not p.name.startswith('.')) == \
                ['0.0', '0.1', '1.0', '1.1']
        ds.resize((6, 10))
        want = np.full((6, 10), -1, dtype='i2')
        want[:5, :6] = data[:5, :6]
        np.testing.assert_array_equal(con.get_dataset('vol')[...], want)
        if fmt == 'zarr2':
            np.testing.assert_array_equal(zarr.open(str(root), mode='r')[...], want)
    finally:
        con.disconnect()


def test_sharded_resize_keeps_the_inner_chunks_inside(tmp_path):
    (tmp_path / 's').mkdir()
    con = dn.Connection('s', backend='file', directory=str(tmp_path), engine='cpu')
    con.connect()
    try:
        data = np.arange(16 * 12, dtype='u4').reshape(16, 12)
        ds = con.create_dataset('vol', data=data, chunk_size=(2, 3), format='zarr3',
                                shard_shape=(8, 6), fillvalue=0)
        ds.resize((9, 7))
        np.testing.assert_array_equal(con.get_dataset('vol')[...], data[:9, :7])
        ds.resize((16, 12))
        want = np.zeros_like(data)
        want[:9, :7] = data[:9, :7]
        np.testing.assert_array_equal(con.get_dataset('vol')[...], want)
    finally:
        con.disconnect()
