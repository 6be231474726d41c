"""ds[...] get and set agree with numpy's basic indexing on >= 2000 random
selections (integers, slices with any start/stop/step incl. negatives and out
of range, Ellipsis, np.newaxis, fewer indices than axes)."""

import numpy as np
import pytest

import dosna as dn

SHAPE = (13, 8, 11)
CHUNKS = (4, 3, 5)


def random_slice(rng, n):
    def bound():
        r = rng.rand()
        if r < 0.2:
            return None
        if r < 0.3:
            return int(rng.randint(-3 * n, 3 * n))  # out of range: clamped
        return int(rng.randint(-n, n + 1))
    step = None
    r = rng.rand()
    if r < 0.4:
        step = int(rng.choice([-3, -2, -1, 1, 2, 3, 5]))
    elif r < 0.5:
        step = 1
    return slice(bound(), bound(), step)


def random_key(rng, shape):
    items = []
    for n in shape:
        r = rng.rand()
        items.append(int(rng.randint(-n, n)) if r < 0.3 else random_slice(rng, n))
    # Fewer indices than axes, an Ellipsis, a newaxis, or a bare item.
    r = rng.rand()
    if r < 0.15:
        items = items[:rng.randint(0, len(items))]
    elif r < 0.35:
        pos = rng.randint(0, len(items) + 1)
        drop = rng.randint(0, len(items) + 1 - pos)
        items = items[:pos] + [Ellipsis] + items[pos + drop:]
    if rng.rand() < 0.1:
        items.insert(rng.randint(0, len(items) + 1), None)
    if len(items) == 1 and rng.rand() < 0.5:
        return items[0]
    return tuple(items)


@pytest.mark.parametrize('backend', ['ram', 'hdf5'])
def test_random_selections_match_numpy(backend, tmp_path):
    if backend not in dn.backends.AVAILABLE:
        pytest.skip('backend {} not built'.format(backend))
    options = {}
    name = 'numpy-equivalence'
    if backend == 'hdf5':
        (tmp_path / 'store').mkdir()
        name, options = 'store', {'directory': str(tmp_path)}
    rng = np.random.RandomState(1234)
    ref = rng.randint(-1000, 1000, size=SHAPE).astype(np.int32)
    rounds = 1200
    with dn.Connection(name, backend=backend, engine='cpu', **options) as con:
        ds = con.create_dataset('eq', data=ref, chunk_size=CHUNKS, fillvalue=0)
        checked_get = checked_set = 0
        for i in range(rounds):
            key = random_key(rng, SHAPE)
            expected = ref[key]
            got = ds[key]
            assert np.shape(got) == np.shape(expected), key
            np.testing.assert_array_equal(got, expected, err_msg=repr(key))
            if np.ndim(expected) == 0:
                assert type(got) is type(expected), key
            checked_get += 1
            # Set: a full-shape array, a broadcast row, or a scalar.
            r = rng.rand()
            if r < 0.5:
                value = rng.randint(-1000, 1000, size=np.shape(expected)).astype(np.int32)
            elif r < 0.75 and np.ndim(expected) > 0:
                value = rng.randint(-9, 9, size=np.shape(expected)[-1:])
            else:
                value = int(rng.randint(-9, 9))
            ref[key] = value
            ds[key] = value
            checked_set += 1
            if i % 50 == 0:
                np.testing.assert_array_equal(ds[...], ref, err_msg=repr(key))
        np.testing.assert_array_equal(ds[...], ref)
        assert checked_get + checked_set >= 2000


def test_invalid_keys_raise_like_numpy():
    a = np.zeros((4, 5))
    with dn.Connection('numpy-invalid') as con:
        ds = con.create_dataset('x', data=a, chunk_size=(2, 2))
        for key in [(4,), (0, -6), (0, 0, 0), (Ellipsis, Ellipsis), (0.5,), ('a',)]:
            with pytest.raises(Exception) as want:
                a[key]
            with pytest.raises(want.type):
                ds[key]
        # Advanced (array, boolean) indexing is not basic indexing: refused.
        for key in [([0, 1],), (True,), np.array([1, 2]), (slice(None), np.zeros(5, bool))]:
            with pytest.raises(IndexError, match='basic indexing'):
                ds[key]
        with pytest.raises(ValueError):
            a[::0]
        with pytest.raises(ValueError):
            ds[::0]
