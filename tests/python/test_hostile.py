"""Hostile inputs from Python (issue 18): fill values the dtype cannot hold,
huge chunks, bad names and the max_chunk_bytes option, on every store."""

import os
import subprocess
import sys

import numpy as np
import pytest

import dosna as dn


@pytest.mark.parametrize('dtype,fill', [
    ('i1', 1000), ('u1', -1), ('i4', np.nan), ('i4', float('nan')), ('i2', 1.5),
    ('u8', 2 ** 64 - 1 + 0.0), ('?', 5), ('f4', 1e39), ('f8', 1 + 1j), ('i8', np.float64('inf')),
    ('u2', np.int64(70000)),
])
def test_fill_values_the_dtype_cannot_hold_are_refused(dtype, fill):
    with dn.Connection('hostile-fill', backend='ram') as con:
        with pytest.raises(ValueError) as info:
            con.create_dataset('x', shape=(4,), dtype=dtype, fillvalue=fill, chunk_size=(2,))
        assert np.dtype(dtype).name in str(info.value)
        assert 'fill value' in str(info.value)
        assert 'x' not in con


@pytest.mark.parametrize('dtype,fill', [
    ('i1', 127), ('u1', 255), ('i4', 3.0), ('f4', np.nan), ('?', True), ('?', 0),
    ('u8', 2 ** 64 - 1), ('c8', 1 - 2j), ('i8', np.int8(-5)),
])
def test_fill_values_the_dtype_holds_are_kept(dtype, fill):
    with dn.Connection('hostile-fill-ok', backend='ram') as con:
        ds = con.create_dataset('x', shape=(3,), dtype=dtype, fillvalue=fill, chunk_size=(2,))
        expected = np.array(fill).astype(dtype)
        np.testing.assert_array_equal(ds[:], np.full(3, expected, dtype=dtype))
        con.del_dataset('x')


def test_huge_chunk_is_refused_and_the_option_raises_the_limit(store):
    with store.connection() as con:
        name = store.dataset_name()
        with pytest.raises(dn.InvalidArgumentError, match='max_chunk_bytes'):
            con.create_dataset(name, shape=(100000,) * 3, dtype='f4',
                               chunk_size=(100000,) * 3)
        assert name not in con
    small = dict(store.options, max_chunk_bytes=1024)
    with dn.Connection(store.name, backend=store.backend, engine=store.engine, **small) as con:
        name = store.dataset_name()
        with pytest.raises(ValueError, match='max_chunk_bytes=1024'):
            con.create_dataset(name, shape=(300,), dtype='f8', chunk_size=(129,))
        ds = con.create_dataset(name, shape=(300,), dtype='f8', chunk_size=(128,))
        ds[:] = np.arange(300)
        np.testing.assert_array_equal(ds[:], np.arange(300))
        con.del_dataset(name)
    with pytest.raises(ValueError, match='max_chunk_bytes'):
        dn.Connection(store.name, backend=store.backend, engine=store.engine, max_chunk_bytes=0,
                      **store.options)


@pytest.mark.parametrize('bad', ['a/b', '..', 'a\0b', 'x' * 256, 'esc\x1b[2J', 'new\nline'])
def test_bad_names_are_value_errors_shown_escaped(store, bad):
    with store.connection() as con:
        with pytest.raises(ValueError) as info:
            con.create_dataset(bad, shape=(4,), dtype='f4', chunk_size=(2,))
        text = str(info.value)
        assert '\x1b' not in text and '\n' not in text and '\0' not in text
        with pytest.raises(ValueError):
            con.get_dataset(bad)


def test_a_read_larger_than_memory_is_a_memory_error():
    with dn.Connection('hostile-vast', backend='ram') as con:
        ds = con.create_dataset('v', shape=(2 ** 38, 2 ** 20), dtype='f8',
                                chunk_size=(1024, 1024))
        with pytest.raises(MemoryError):
            ds[:]
        assert issubclass(dn.OutOfMemoryError, dn.DosnaError)
        con.del_dataset('v')


def test_an_integer_beyond_every_dtype_is_a_value_error():
    with dn.Connection('hostile-int', backend='ram') as con:
        for fill in (2 ** 64, -2 ** 63 - 1):
            with pytest.raises(ValueError, match='out of range'):
                con.create_dataset('x', shape=(4,), dtype='u8', fillvalue=fill)


def test_connection_that_failed_to_construct_can_be_shown():
    # pytest (or a debugger) shows the half-made `self` of a failed __init__;
    # that must print, not crash the interpreter. Run in a child: a crash
    # would take this test process with it.
    code = '''
import sys
import dosna as dn
for bad in ({'backend': 'hdf5', 'bogus': 1}, {'backend': 'hdf5', 'engine': 'nope'}):
    try:
        dn.Connection('x', **bad)
    except Exception:
        frame = sys.exc_info()[2].tb_next.tb_frame
        print(repr(frame.f_locals['self']), frame.f_locals['self'].connected)
'''
    proc = subprocess.run([sys.executable, '-c', code], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, env=dict(os.environ), timeout=120)
    out = proc.stdout.decode()
    assert proc.returncode == 0, out
    assert out.count('(not constructed)') == 2, out
