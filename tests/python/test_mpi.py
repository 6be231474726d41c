"""The mpi engine from Python: `mpiexec -n 2 /usr/bin/python3 mpi_script.py`
on hdf5 and ceph, with and without `from mpi4py import MPI` first."""

import os
import shutil
import subprocess
import sys

import pytest

import dosna as dn

from conftest import services_required, unique

HERE = os.path.dirname(os.path.abspath(__file__))
NPROC = 2


@pytest.mark.parametrize('mpi4py_first', [False, True], ids=['dosna-inits-mpi', 'mpi4py-first'])
@pytest.mark.parametrize('backend', ['hdf5', 'ceph'])
def test_mpi_script(backend, mpi4py_first, tmp_path):
    if 'mpi' not in dn.engines.AVAILABLE:
        pytest.skip('mpi engine not built')
    if backend not in dn.backends.AVAILABLE:
        pytest.skip('backend {} not built'.format(backend))
    if shutil.which('mpiexec') is None:
        pytest.fail('mpiexec not found (install openmpi-bin)')
    args = [backend, unique('mpi')]
    if backend == 'hdf5':
        (tmp_path / 'store').mkdir()
        args.append(str(tmp_path))
    elif not (os.environ.get('DOSNA_CEPH_POOL') and os.environ.get('CEPH_CONF')):
        reason = 'ceph: DOSNA_CEPH_POOL/CEPH_CONF not set (scripts/local-services.sh)'
        if services_required():
            pytest.fail('DOSNA_REQUIRE_SERVICES is set but ' + reason)
        pytest.skip(reason)
    env = dict(os.environ)
    env['DOSNA_MPI4PY_FIRST'] = '1' if mpi4py_first else '0'
    env['DOSNA_MPI_EXPECT_SIZE'] = str(NPROC)
    env['PYTHONPATH'] = os.pathsep.join(p for p in [os.path.dirname(os.path.dirname(dn.__file__)),
                                                     env.get('PYTHONPATH')] if p)
    cmd = ['mpiexec', '--allow-run-as-root', '--oversubscribe', '-n', str(NPROC),
           '/usr/bin/python3', os.path.join(HERE, 'mpi_script.py')] + args
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=120, universal_newlines=True)
    assert proc.returncode == 0, proc.stdout
    for rank in range(NPROC):
        assert 'rank {} of {} ok'.format(rank, NPROC) in proc.stdout, proc.stdout
