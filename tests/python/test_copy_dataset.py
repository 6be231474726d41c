"""dosna.copy_dataset / Connection.copy_dataset (the library's copy_dataset,
include/dosna/copy.h): from every store x engine into a zarr3 file store,
and rechunked within the same store."""
import json

import numpy as np
import pytest

import dosna as dn


def written_source(con, name):
    data = np.arange(13 * 10, dtype='f8').reshape(13, 10) * 0.5
    ds = con.create_dataset(name, shape=data.shape, dtype='f8', chunk_size=(4, 4),
                            fillvalue=-1)
    ds[:8] = data[:8]
    want = np.full(data.shape, -1.0)
    want[:8] = data[:8]
    return ds, want


def test_copy_into_a_zarr3_file_store(con, new_name, tmp_path):
    src, want = written_source(con, new_name())
    (tmp_path / 'z').mkdir()
    with dn.Connection('z', backend='file', directory=str(tmp_path)) as dst:
        calls = []
        out = dn.copy_dataset(src, dst, 'vol', compression='zstd',
                              progress=lambda done, total: calls.append((done, total)))
        np.testing.assert_array_equal(dst['vol'][...], want)
        assert out.shape == src.shape and out.chunk_size == (4, 4)
        assert calls[0][0] == 0 and calls[-1][0] == calls[-1][1] > 0
        meta = json.loads((tmp_path / 'z' / 'vol' / 'zarr.json').read_text())
        assert meta['fill_value'] == -1.0
        assert [c['name'] for c in meta['codecs']] == ['bytes', 'zstd']
        # Only the 6 chunks src holds were copied.
        chunks = [p for p in (tmp_path / 'z' / 'vol' / 'c').rglob('*') if p.is_file()]
        assert len(chunks) == 6


def test_rechunked_copy_in_the_same_store(con, new_name):
    src, want = written_source(con, new_name())
    name = new_name()
    out = con.copy_dataset(src, name, chunk_size=(5, 3), max_bytes_in_flight=1)
    assert out.chunk_size == (5, 3)
    np.testing.assert_array_equal(con.get_dataset(name)[...], want)
    assert not out.has_chunk((2, 0))  # rows 10..12 were never written: not copied


def test_an_existing_destination_is_refused(con, new_name):
    src, _ = written_source(con, new_name())
    other = con.create_dataset(new_name(), shape=(2, 2), dtype='i1', fillvalue=3)
    with pytest.raises(dn.AlreadyExistsError, match=other.name):
        con.copy_dataset(src, other.name)
    np.testing.assert_array_equal(con.get_dataset(other.name)[...], np.full((2, 2), 3, 'i1'))


def test_a_raising_progress_callback_stops_the_copy_and_leaves_nothing(con, new_name):
    src, _ = written_source(con, new_name())
    name = new_name()

    def progress(done, total):
        if done:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        con.copy_dataset(src, name, progress=progress)
    assert not con.has_dataset(name)
