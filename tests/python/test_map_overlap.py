"""Dataset.map_overlap from Python: halos hold the neighbours and numpy's
'symmetric' (= scipy.ndimage 'reflect') padding; a Gaussian through it equals
scipy's gaussian_filter of the whole array."""

import numpy as np
import pytest
from scipy import ndimage


def test_halo_contents(con, new_name):
    data = np.arange(10 * 9 * 7, dtype=np.float32).reshape(10, 9, 7)
    ds = con.create_dataset(new_name(), data=data, chunk_size=(4, 4, 3))
    halo = 2
    padded = np.pad(data, halo, mode='symmetric')
    seen = []

    def check(block):
        # Find the chunk whose padded window equals the block.
        for z in range(0, 10, 4):
            for y in range(0, 9, 4):
                for x in range(0, 7, 3):
                    win = padded[z:z + min(4, 10 - z) + 2 * halo,
                                 y:y + min(4, 9 - y) + 2 * halo,
                                 x:x + min(3, 7 - x) + 2 * halo]
                    if win.shape == block.shape and np.array_equal(win, block):
                        seen.append((z, y, x))
                        return block
        raise AssertionError('block matches no chunk window')

    out = ds.map_overlap(check, new_name(), halo)
    assert len(set(seen)) == ds.total_chunks
    np.testing.assert_array_equal(out[...], data)


@pytest.mark.parametrize('crop_in_func', [False, True])
def test_gaussian_equals_scipy(con, new_name, crop_in_func):
    data = np.random.default_rng(3).random((20, 17, 13), dtype=np.float32)
    ds = con.create_dataset(new_name(), data=data, chunk_size=(8, 8, 8))
    sigma, halo = 1.0, 4

    def smooth(block):
        r = ndimage.gaussian_filter(block, sigma, mode='reflect', truncate=4.0)
        return r[halo:-halo, halo:-halo, halo:-halo] if crop_in_func else r

    out = ds.map_overlap(smooth, new_name(), halo)
    want = ndimage.gaussian_filter(data, sigma, mode='reflect', truncate=4.0)
    np.testing.assert_allclose(out[...], want, rtol=1e-5)


def test_bad_results(con, new_name):
    ds = con.create_dataset(new_name(), data=np.zeros((6, 6), np.float32), chunk_size=(4, 4))
    with pytest.raises(ValueError):
        ds.map_overlap(lambda b: b[:1], new_name(), 1)
    with pytest.raises(Exception):
        ds.map_overlap(lambda b: b, new_name(), -1)
