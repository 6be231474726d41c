"""Module-level API: use/status/compatible, AVAILABLE lists, errors, options."""

import numpy as np
import pytest

import dosna as dn
from dosna.backends.base import DatasetNotFoundError
from dosna.util import mpi as dmpi


def test_defaults_and_status():
    engine, backend = dn.status()
    assert engine.name == 'cpu' and backend.name == 'ram'
    st = dn.status()
    assert st.engine.name == 'cpu' and st.backend.name == 'ram'
    assert 'ram' in dn.backends.AVAILABLE
    assert 'cpu' in dn.engines.AVAILABLE


def test_use_switches_selection():
    dn.use(backend='ram', engine='cpu', engine_kw={})
    assert dn.status().backend.name == 'ram'
    if 'jl' in dn.engines.AVAILABLE:
        dn.use(engine='jl', engine_kw={'njobs': 2})
        assert dn.status().engine.name == 'jl'
        assert dn.status().engine.params == {'njobs': 2}
        with dn.Connection('use-jl') as con:
            assert con.engine == 'threads'
            ds = con.create_dataset('d', data=np.arange(10.0), chunk_size=(3,))
            np.testing.assert_array_equal(ds[...], np.arange(10.0))
            con.del_dataset('d')
        dn.use(engine='joblib')
        assert dn.status().engine.name == 'joblib'


def test_unknown_names_list_available():
    with pytest.raises(ValueError, match='ram'):
        dn.use(backend='nosuch')
    with pytest.raises(ValueError, match='cpu'):
        dn.use(engine='nosuch')
    for name in ('hdf5', 'ceph', 's3'):
        if name not in dn.backends.AVAILABLE:
            with pytest.raises(dn.NotBuiltError):
                dn.use(backend=name)
    assert dn.status().backend.name == 'ram'


def test_compatible():
    assert dn.compatible('ram', 'cpu')
    assert dn.compatible('ram', 'jl')
    assert not dn.compatible('ram', 'mpi')
    assert dn.compatible('hdf5', 'mpi')


def test_unknown_option_is_value_error():
    with pytest.raises(ValueError, match='bogus'):
        with dn.Connection('opts', bogus=1):
            pass


def test_error_tree():
    assert issubclass(dn.DatasetNotFoundError, KeyError)
    assert issubclass(dn.DatasetNotFoundError, dn.NotFoundError)
    assert DatasetNotFoundError is dn.DatasetNotFoundError
    assert issubclass(dn.InvalidArgumentError, ValueError)
    assert issubclass(dn.IndexOutOfRangeError, IndexError)
    assert issubclass(dn.NotBuiltError, dn.NotSupportedError)
    assert issubclass(dn.NotSupportedError, NotImplementedError)
    assert issubclass(dn.ConnectionError, ConnectionError)
    assert issubclass(dn.PermissionDeniedError, PermissionError)
    assert issubclass(dn.IoError, OSError)
    for cls in (dn.InvalidArgumentError, dn.NotFoundError, dn.IoError, dn.ConnectionError):
        assert issubclass(cls, dn.DosnaError)
    with dn.Connection('errors') as con:
        with pytest.raises(DatasetNotFoundError) as info:
            con['missing']
        assert "missing" in str(info.value) and not str(info.value).startswith("'")
        ds = con.create_dataset('e', shape=(4, 4))
        with pytest.raises(dn.IndexOutOfRangeError):
            ds[4, 0]
        with pytest.raises(dn.AlreadyExistsError):
            con.create_dataset('e', shape=(4, 4))
        with pytest.raises(ValueError):
            con.create_dataset('bad', shape=(4, 4), chunk_size=(0, 2))
        with pytest.raises(ValueError, match='U3'):
            con.create_dataset('bad2', shape=(4,), dtype='U3')
        con.del_dataset('e')


def test_closed_connection_raises_connection_error():
    con = dn.Connection('closing')
    con.connect()
    ds = con.create_dataset('c', shape=(4,))
    con.disconnect()
    with pytest.raises(dn.ConnectionError):
        ds[0]


def test_lowercase_connection_alias():
    assert dn.connection is dn.Connection
    with dn.connection('alias') as con:
        assert isinstance(con, dn.Connection)


def test_mpi_helpers_single_process():
    assert dmpi.mpi_rank() == 0
    assert dmpi.mpi_size() == 1
    assert dmpi.mpi_root()
    dmpi.mpi_barrier()
    assert dn.mpi_rank() == 0 and dn.mpi_size() == 1 and dn.mpi_is_root()


def test_threads_engine_runs_python_callables(tmp_path):
    if 'jl' not in dn.engines.AVAILABLE:
        pytest.skip('threads engine not built')
    import threading
    with dn.Connection('gil', engine='jl', njobs=4) as con:
        ds = con.create_dataset('g', data=np.ones((64, 64)), chunk_size=(8, 8))
        threads = set()

        def work(chunk):
            threads.add(threading.get_ident())
            return chunk + 1

        out = ds.map(work, 'g2')
        np.testing.assert_array_equal(out[...], np.full((64, 64), 2.0))
        ds.apply(work)
        np.testing.assert_array_equal(ds[...], np.full((64, 64), 2.0))
        assert len(threads) >= 1


# Every row of the error-kind table (dosna/error_kinds.h), written out here
# independently: C++ class -> Python class and the builtins it must also be.
_ERROR_KINDS = {
    'Error': ('DosnaError', (Exception,)),
    'InvalidArgument': ('InvalidArgumentError', (ValueError,)),
    'IndexOutOfRange': ('IndexOutOfRangeError', (IndexError,)),
    'NotFound': ('NotFoundError', (KeyError,)),
    'DatasetNotFound': ('DatasetNotFoundError', (KeyError,)),
    'AlreadyExists': ('AlreadyExistsError', (ValueError,)),
    'NotSupported': ('NotSupportedError', (NotImplementedError,)),
    'NotBuilt': ('NotBuiltError', (NotImplementedError,)),
    'ConnectionError': ('ConnectionError', (ConnectionError,)),
    'PermissionDenied': ('PermissionDeniedError', (PermissionError,)),
    'OutOfMemory': ('OutOfMemoryError', (MemoryError,)),
    'IoError': ('IoError', (OSError,)),
}


def test_every_error_kind_becomes_its_python_class():
    from dosna import _dosna
    rows = _dosna._error_kinds()
    assert {name: cls for name, cls, _ in rows} == {k: v[0] for k, v in _ERROR_KINDS.items()}
    for name, (cls_name, builtins_) in _ERROR_KINDS.items():
        cls = getattr(dn, cls_name)
        with pytest.raises(cls) as info:
            _dosna._raise_error(name, 'message of ' + name, 0)
        assert type(info.value) is cls, name
        assert isinstance(info.value, dn.DosnaError) and isinstance(info.value, builtins_)
        assert str(info.value) == 'message of ' + name  # KeyError's quoting is off
    assert issubclass(dn.DatasetNotFoundError, dn.NotFoundError)
    assert issubclass(dn.NotBuiltError, dn.NotSupportedError)
    with pytest.raises(dn.IoError) as info:
        _dosna._raise_error('IoError', 'io', 13)
    assert info.value.code == 13 and info.value.errno == 13
    with pytest.raises(dn.IoError) as info:
        _dosna._raise_error('IoError', 'io', 0)
    assert info.value.code == 0 and info.value.errno is None
