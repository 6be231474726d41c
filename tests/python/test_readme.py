"""The seed README's Python examples, executed unchanged (text copied verbatim
from DosNa's README, "Basic Usage" and "Selecting Backend and Engines")."""

import textwrap

import numpy as np
import pytest

import dosna as dn

BASIC_USAGE = textwrap.dedent('''
    import dosna as dn
    import numpy as np

    data = np.random.randn(100, 100, 100)

    con = dn.Connection('dosna-tutorial')
    ds = con.create_dataset('data', data=data, chunk_size=(32,32,32))

    print(ds[0, 0, :10])
    # [ 0.38475526 -1.02690848  0.88673305 -0.12398208  1.49337365 -1.91976844
    #   1.76940625  0.58314611  0.41391879 -0.34711908]
    assert np.allclose(ds[...], data) # True
''')

CONTEXT_MANAGER = textwrap.dedent('''
    data = np.random.randn(100, 100, 100)

    with dn.connection('dosna_tutorial') as con:
        ds = con['data'] # Similarly, retrieve an existing dataset
        print(ds[0, 0, :10])
        # [ 0.38475526 -1.02690848  0.88673305 -0.12398208  1.49337365 -1.91976844
        #   1.76940625  0.58314611  0.41391879 -0.34711908]
        ds[36:80, 89:, :56] = data[36:80, 89:, :56]
        assert np.allclose(ds[36:80, 89:, :56], data[36:80, 89:, :56])
''')

SELECT_BACKEND = "dn.use(backend='hdf5') # One of ['ram', 'hdf5', 'ceph', 'sage']\n"
SELECT_ENGINE = "dn.use(engine='mpi') # One of ['cpu', 'joblib', 'mpi']\n"
SELECT_BOTH = textwrap.dedent('''
    import dosna as dn
    dn.use(backend='hdf5', engine='mpi')

    # Rest of the script
''')


def run(code, scope=None):
    scope = {} if scope is None else scope
    exec(compile(code, '<README>', 'exec'), scope)
    return scope


def prepare_tutorial_pool():
    # "the example above assumes that the pool dosna_tutorial already exists"
    # (and holds 'data', as the example retrieves it).
    with dn.Connection('dosna_tutorial') as con:
        if 'data' not in con:
            con.create_dataset('data', data=np.zeros((100, 100, 100)), chunk_size=(32, 32, 32))


@pytest.mark.parametrize('backend', ['ram', 'hdf5'])
def test_readme_basic_examples(backend, tmp_path, monkeypatch, capsys):
    if backend not in dn.backends.AVAILABLE:
        pytest.skip('backend {} not built'.format(backend))
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'dosna-tutorial').mkdir()
    (tmp_path / 'dosna_tutorial').mkdir()
    dn.use(backend=backend)
    scope = run(BASIC_USAGE)
    printed = capsys.readouterr().out
    assert printed.startswith('[')
    np.testing.assert_allclose(scope['ds'][0, 0, :10], scope['data'][0, 0, :10])
    prepare_tutorial_pool()
    run(CONTEXT_MANAGER, {'dn': dn, 'np': np})
    for con_name in ('dosna-tutorial', 'dosna_tutorial'):
        with dn.Connection(con_name) as con:
            con.del_dataset('data')


def test_readme_selection_snippets():
    if 'hdf5' in dn.backends.AVAILABLE:
        run(SELECT_BACKEND, {'dn': dn})
        assert dn.status().backend.name == 'hdf5'
    if 'mpi' in dn.engines.AVAILABLE:
        run(SELECT_ENGINE, {'dn': dn})
        assert dn.status().engine.name == 'mpi'
        if 'hdf5' in dn.backends.AVAILABLE:
            run(SELECT_BOTH)
            assert tuple(x.name for x in dn.status()) == ('mpi', 'hdf5')
    dn.use(engine='joblib' if 'joblib' in dn.engines.AVAILABLE else 'cpu')
