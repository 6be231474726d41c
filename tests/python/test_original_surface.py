"""Every name a script can import from the original Python DosNa's package
(tests/python/original_surface.txt, read from its source by
original_surface.py) is placed by the table in python/README.md, and every
name the table says is here imports, members of classes included. Where the
original's source is found (test_original_interop.original_source()), the
list is regenerated from it and must match. Then the behaviour of the
dosna.util helpers, as the original's."""

import importlib
import io
import os
import re
import sys
from contextlib import redirect_stdout

import numpy as np
import pytest

import dosna as dn
import original_surface
from test_original_interop import original_source

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SURFACE_FILE = os.path.join(HERE, 'original_surface.txt')
README = os.path.join(ROOT, 'python', 'README.md')


def surface_lines():
    with open(SURFACE_FILE) as f:
        return [line.strip() for line in f if line.strip()]


def readme_table():
    """{module: (names here, names not provided)} from python/README.md."""
    with open(README) as f:
        text = f.read()
    section = text.split("## The original's public surface", 1)[1].split('\n## ', 1)[0]
    table = {}
    for row in section.splitlines():
        cells = [c.strip() for c in row.strip().strip('|').split('|')]
        if len(cells) != 4 or not cells[0].startswith('`'):
            continue
        ticks = [re.findall(r'`([^`]+)`', c) for c in cells[:3]]
        assert len(ticks[0]) == 1, row
        table[ticks[0][0]] = (set(ticks[1]), set(ticks[2]))
    assert table, 'python/README.md has no surface table'
    return table


def resolve(module, name):
    obj = importlib.import_module(module)
    for part in name.split('.'):
        obj = getattr(obj, part)
    return obj


def placed_names():
    """(module, name, here?) for every line of the surface list."""
    table = readme_table()
    out = []
    for line in surface_lines():
        parts = line.split()
        module = parts[0]
        assert module in table, 'python/README.md does not list module ' + module
        here, absent = table[module]
        if len(parts) == 1:
            out.append((module, None, '*' not in absent))
            continue
        name = parts[1]
        if '*' in absent or name in absent:
            out.append((module, name, False))
            continue
        owner = name.split('.')[0]
        assert name in here or ('.' in name and owner in here), \
            'python/README.md does not place {} {}'.format(module, name)
        out.append((module, name, True))
    return out


def test_readme_places_every_name_and_only_names_of_the_original():
    surface = {}
    for line in surface_lines():
        module, _, name = line.partition(' ')
        surface.setdefault(module, set())
        if name:
            surface[module].add(name)
    placed = placed_names()
    assert len(placed) == len(surface_lines())
    for module, (here, absent) in readme_table().items():
        assert module in surface, 'python/README.md lists {}, not a module of the original'.format(module)
        unknown = (here | absent) - surface[module] - {'*'}
        assert not unknown, 'python/README.md lists {} in {}: not in the original'.format(unknown, module)


@pytest.mark.parametrize('module,name', [(m, n) for m, n, here in placed_names() if here],
                         ids=lambda v: v or '')
def test_name_imports(module, name):
    if name is None:
        importlib.import_module(module)
    else:
        resolve(module, name)


def test_surface_list_is_the_originals():
    src = original_source()
    if src is None:
        pytest.skip('the original DosNa source was not found (DOSNA_ORIGINAL_SRC)')
    assert original_surface.lines(src) == surface_lines(), \
        'regenerate: original_surface.py {} > tests/python/original_surface.txt'.format(src)


def test_surface_reader_sees_every_kind_of_name(tmp_path):
    pkg = tmp_path / 'dosna' / 'sub'
    pkg.mkdir(parents=True)
    (tmp_path / 'dosna' / '__init__.py').write_text('from dosna.sub import f as g\nimport os\nA = 1\n')
    (pkg / '__init__.py').write_text('')
    (pkg / 'm.py').write_text('from numpy import zeros\nfrom dosna import A\n_p = 2\nx, y = 1, 2\n'
                              'def f(): pass\nclass C(object):\n    k = 1\n    def m(self): pass\n'
                              '    def _q(self): pass\n')
    assert original_surface.surface(str(tmp_path)) == {
        'dosna': {'g', 'A'}, 'dosna.sub': set(),
        'dosna.sub.m': {'A', 'x', 'y', 'f', 'C', 'C.k', 'C.m'}}


# --- behaviour of the helpers scripts use, as the original's

def test_shape_and_dtype_text():
    from dosna.util import dtype2str, shape2str, str2shape
    assert shape2str((100, 20, 3)) == '100::20::3'
    assert shape2str([4, 5], sep='x') == '4x5'
    assert str2shape('100::20::3') == (100, 20, 3)
    assert str2shape('4x5', sep='x') == (4, 5)
    assert dtype2str(np.float32) == '<f4' and dtype2str('i8') == '<i8'
    assert dtype2str(bool) == '|b1'


def test_slices2shape():
    from dosna.util.data import slices2shape
    assert slices2shape((slice(2, 5), slice(0, 4))) == (3, 4)
    assert slices2shape([]) == ()


def test_named_module_and_directory_tree(tmp_path):
    from dosna.util import DirectoryTreeMixin, named_module
    assert named_module('dosna.util.data').slices2shape
    assert named_module('os.path') is os.path

    class Node(DirectoryTreeMixin):
        def __init__(self, name, directory=None, parent=None):
            self.name, self.directory, self.parent = name, directory, parent

    top = Node('store', directory=str(tmp_path))
    child = Node('ds', parent=top)
    assert top.path == os.path.join(str(tmp_path), 'store')
    assert top.relpath() == os.path.join(top.path, '')
    assert child.path == os.path.join(top.path, 'ds')
    assert child.relpath('chunk_0_0.h5') == os.path.join(top.path, 'ds', 'chunk_0_0.h5')


def test_timer_prints_and_keeps_the_time():
    from dosna.util import Timer
    t = Timer('load')
    assert (t.name, t.tstart, t.tend, t.time) == ('load', -1, -1, 0)
    out = io.StringIO()
    with redirect_stdout(out):
        with t as entered:
            sum(range(1000))
    assert entered is t
    assert t.tend >= t.tstart > 0 and abs(t.time - (t.tend - t.tstart)) < 1e-12
    assert re.fullmatch(r'\[\*\] load -- Elapsed: \d+\.\d{4} seconds\n', out.getvalue()), out.getvalue()


def test_mpi_helpers_in_one_process():
    from dosna.util import mpi
    out = io.StringIO()
    with redirect_stdout(out):
        with mpi.MpiTimer('step') as t:
            pass
        with mpi.MpiTimer('elsewhere', rank=1):
            pass
        mpi.pprint('hello', 3)
        mpi.pprint('not me', rank=1)
    assert t.time >= 0 and t.tend >= t.tstart > 0
    assert re.fullmatch(r'\|0\) step -- Elapsed: \d+\.\d{4} seconds\n\|0\) hello 3\n',
                        out.getvalue()), out.getvalue()
    assert (mpi.mpi_rank(), mpi.mpi_size(), mpi.mpi_root(), mpi.mpi_is_root()) == (0, 1, True, True)
    comm = mpi.mpi_comm()
    assert comm.Get_size() == 1 and comm.bcast('x', root=0) == 'x'
    mpi.mpi_barrier()
    assert mpi.status is dn.status


def test_mpi_mixin():
    from dosna.util.mpi import MpiMixin, OneProcessComm

    class Calls(OneProcessComm):
        barriers = 0

        def Barrier(self):  # noqa: N802
            Calls.barriers += 1

    class Thing(MpiMixin):
        pass

    t = Thing(Calls())
    assert (t.mpi_size, t.mpi_rank, t.mpi_is_root) == (1, 0, True)
    t.mpi_barrier()
    assert Calls.barriers == 1


def test_mpi_comm_without_mpi4py(monkeypatch):
    from dosna.util import mpi
    monkeypatch.setitem(sys.modules, 'mpi4py', None)  # import mpi4py now fails
    comm = mpi.mpi_comm()
    assert isinstance(comm, mpi.OneProcessComm)
    assert comm.bcast({'a': 1}) == {'a': 1} and comm.Get_rank() == 0


def test_selection_reads_as_the_originals_namedtuples():
    engine, backend = dn.status(show=True)
    name, Connection, Dataset, DataChunk, params = engine
    assert (name, params) == ('cpu', {}) and Dataset is dn.Dataset and DataChunk is dn.DataChunk
    assert backend[0] == 'ram' and len(backend) == 4
    con = backend.Connection('x')
    assert isinstance(con, dn.Connection) and con.backend == 'ram'
    assert dn.compatible(engine, backend) and dn.compatible('cpu', 'ram')
    assert not dn.compatible('mpi', 'ram') and not dn.compatible('ram', 'mpi')


def test_use_takes_engine_first():
    dn.use('jl', 'hdf5')
    assert dn.status().engine.name == 'jl' and dn.status().backend.name == 'hdf5'


def test_connection_positional_options_in_the_originals_order(tmp_path):
    from dosna.backends.hdf5 import H5Connection
    from dosna.backends.ram import MemConnection
    from dosna.engines.cpu import CpuConnection
    (tmp_path / 'store').mkdir()
    con = H5Connection('store', str(tmp_path))
    assert con.backend == 'hdf5' and con.options['directory'] == str(tmp_path)
    with con:
        con.create_dataset('d', shape=(3,), fillvalue=2)
        assert (tmp_path / 'store' / 'd' / 'dataset.h5').exists()
    assert MemConnection('m', 'r').mode == 'r'
    dn.use(backend='hdf5')
    assert dn.Connection('store', str(tmp_path)).options['directory'] == str(tmp_path)
    assert CpuConnection('store', directory=str(tmp_path)).engine == 'cpu'
    with pytest.raises(TypeError, match='directory'):
        dn.Connection('store', str(tmp_path), directory=str(tmp_path))
    with pytest.raises(TypeError, match='at most 2'):
        dn.Connection('store', 'a', 'b', 'c')
    with pytest.raises(ValueError, match='MemConnection'):
        MemConnection('m', backend='hdf5')


def test_chunk_read_and_write_full():
    with dn.Connection('raw', backend='ram') as con:
        ds = con.create_dataset('d', shape=(3, 4), dtype=np.int16, fillvalue=-2, chunk_size=(2, 2))
        chunk = ds.get_chunk((1, 1))
        assert ds.instance is ds and chunk.instance is chunk
        assert chunk.read() == np.full((2, 2), -2, np.int16).tobytes()
        assert not ds.has_chunk((1, 1))  # reading did not create it
        block = np.arange(4, dtype=np.int16).reshape(2, 2)
        chunk.write_full(block.tobytes())
        assert chunk.read(length=2, offset=2) == block.tobytes()[2:4]
        np.testing.assert_array_equal(ds[2:, 2:], block[:1])
        with pytest.raises(ValueError, match='3 bytes given, the chunk holds 8'):
            chunk.write_full(b'abc')
