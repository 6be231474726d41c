"""convolution_script.py, a driver in the style of the original's examples/
(dosna.util.mpi's MpiTimer, pprint, mpi_comm().bcast, h5py input), runs
unchanged: under `mpiexec -n 2` on the mpi engine (hdf5, ceph) and as one
process on the jl engine."""

import os
import shutil
import subprocess

import h5py
import pytest

import dosna as dn

from conftest import unique, usable_store

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, 'convolution_script.py')
NPROC = 2


@pytest.mark.parametrize('engine,backend', [('mpi', 'hdf5'), ('mpi', 'ceph'), ('jl', 'hdf5'),
                                            ('jl', 'ceph')])
def test_convolution_script(engine, backend, tmp_path):
    if engine not in dn.engines.AVAILABLE:
        pytest.skip('engine {} not built'.format(engine))
    store = usable_store(backend, engine, tmp_path)
    if backend == 'hdf5':
        options = ['directory=' + store.options['directory']]
    else:
        options = ['conffile=' + store.options['conffile']]
    cmd = ['/usr/bin/python3', SCRIPT, '--engine', engine, '--backend', backend,
           '--connection', store.name, '--connection-options'] + options + [
           '--prefix', unique('cv') + '-', '--tmp', str(tmp_path), '--out', str(tmp_path)]
    nproc = 1
    if engine == 'mpi':
        if shutil.which('mpiexec') is None:
            pytest.fail('mpiexec not found (install openmpi-bin)')
        nproc = NPROC
        cmd = ['mpiexec', '--allow-run-as-root', '--oversubscribe', '-n', str(nproc)] + cmd
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(p for p in [os.path.dirname(os.path.dirname(dn.__file__)),
                                                     env.get('PYTHONPATH')] if p)
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=300, universal_newlines=True)
    assert proc.returncode == 0, proc.stdout
    for rank in range(nproc):
        assert 'convolution_script: rank {} of {} ok'.format(rank, nproc) in proc.stdout, proc.stdout
    # Every step was timed by MpiTimer on rank 0, and the times were kept.
    for step in ('Data loaded', 'Separable 3D convolution', 'Three separable 1D convolutions',
                 'Data removed'):
        assert '|0) {} -- Elapsed: '.format(step) in proc.stdout, proc.stdout
    with h5py.File(str(tmp_path / 'result.h5'), 'r') as f:
        times = f['{}/{}/{}'.format(backend, engine, nproc)][...]
    assert times.shape == (2, 3, 3, 2)
    assert (times[:, :2] > 0).all() and (times[:, 2] == 0).all()  # chunk 40 > both sizes
