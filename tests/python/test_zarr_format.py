"""Zarr formats from Python: create_dataset(format=, compression=, ...) on
the ram store; zarr-python reads what DosNa writes (tests/interop covers the
directory round trip), here the API, errors and format reporting."""

import numpy as np
import pytest

import dosna as dn


@pytest.fixture
def ram(new_name):
    con = dn.Connection(new_name(), backend='ram', engine='cpu')
    con.connect()
    yield con
    con.disconnect()


@pytest.mark.parametrize('fmt', ['zarr3', 'zarr2'])
def test_zarr_dataset_round_trip(ram, fmt):
    data = np.arange(35, dtype=np.uint16).reshape(7, 5)
    ds = ram.create_dataset('vol', data=data, chunk_size=(3, 2), format=fmt, fillvalue=7)
    assert ds.format == fmt
    assert 'vol/' in ds.location
    again = ram.get_dataset('vol')
    assert again.format == fmt
    np.testing.assert_array_equal(again[...], data)
    again[1:3, 1] = 99
    assert ram['vol'][2, 1] == 99
    assert ram.list_datasets() == ['vol']
    ram.del_dataset('vol')
    assert not ram.has_dataset('vol')


def test_dosna_format_refuses_compression(ram):
    with pytest.raises(ValueError, match='original'):
        ram.create_dataset('d', shape=(4,), compression='zstd')
    with pytest.raises(ValueError, match='original'):
        ram.create_dataset('d', shape=(4,), format='dosna', shard_shape=(4,))
    assert ram.list_datasets() == []
    assert ram.create_dataset('d', shape=(4,)).format == 'dosna'


def test_unknown_codec_is_not_supported(ram):
    with pytest.raises(dn.NotSupportedError, match='frobnicate'):
        ram.create_dataset('d', shape=(4,), format='zarr3',
                           codecs=[{'name': 'bytes', 'configuration': {'endian': 'little'}},
                                   {'name': 'frobnicate'}])
    with pytest.raises(dn.NotSupportedError, match='lzma'):
        ram.create_dataset('d', shape=(4,), format='zarr2', compression='lzma')
    assert ram.list_datasets() == []
