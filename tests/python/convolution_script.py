#!/usr/bin/env python
"""A Gaussian convolution driver written the way the original DosNa's
examples/ are: argparse options, the input in a temporary HDF5 file that
rank 0 writes and broadcasts with mpi_comm().bcast, every step timed with
MpiTimer, chunk rows split across ranks by hand, results in result.h5.
It must run unchanged on this DosNa:

  mpiexec -n 2 python3 convolution_script.py --engine mpi --backend hdf5 \\
      --connection store --connection-options directory=DIR --tmp DIR --out DIR
  python3 convolution_script.py --engine jl --backend hdf5 ...

Unlike the originals it also checks every result against scipy on the
same chunk blocks and ends with `convolution_script: rank R of N ok`.
"""

from __future__ import print_function

import argparse
import os
import sys
import tempfile
import traceback
from os.path import join

import h5py as h5
import numpy as np
from scipy.ndimage import gaussian_filter, gaussian_filter1d

import dosna as dn
from dosna.util import Timer
from dosna.util.mpi import (MpiTimer, mpi_barrier, mpi_comm, mpi_rank,
                            mpi_root, mpi_size, pprint)



def abort_on_error(kind, value, tb):
    # A failing rank must not leave the others waiting in a barrier: exiting
    # without MPI_Finalize makes mpiexec end the whole job.
    traceback.print_exception(kind, value, tb)
    sys.stderr.flush()
    os._exit(1)


sys.excepthook = abort_on_error

parser = argparse.ArgumentParser(description='Gaussian convolution on DosNa')
parser.add_argument('--backend', default='hdf5')
parser.add_argument('--engine', default='mpi')
parser.add_argument('--connection', default='test-dosna')
parser.add_argument('--connection-options', dest='connection_options',
                    nargs='+', default=[])
parser.add_argument('--out', default='.')
parser.add_argument('--tmp', default=None)
parser.add_argument('--prefix', default='')
parser.add_argument('--data-sizes', dest='data_sizes', type=int, nargs='+',
                    default=[20, 27])
parser.add_argument('--chunk-sizes', dest='chunk_sizes', type=int, nargs='+',
                    default=[8, 12, 40])
parser.add_argument('--sigma', type=float, default=1.5)
parser.add_argument('--ntest', type=int, default=2)
args = parser.parse_args()

dn.use(backend=args.backend, engine=args.engine)
engine, backend = dn.status()

CONFIG = {'name': args.connection}
CONFIG.update(dict(item.split('=') for item in args.connection_options))
pprint('Backend: {}, Engine: {}, config: {}'.format(
    backend.name, engine.name, CONFIG), rank=0)


def random_input(size):
    pprint('Writing the input', rank=0)
    if mpi_root():
        handle = tempfile.NamedTemporaryFile(dir=args.tmp, suffix='.h5', delete=False)
        handle.close()
        with h5.File(handle.name, 'w') as g:
            g.create_dataset('data', data=np.random.rand(size, size, size).astype(np.float32))
        fname = handle.name
    else:
        fname = None
    fname = mpi_comm().bcast(fname, root=0)
    h5in = h5.File(fname, 'r')
    return h5in, h5in['data']


def results_file():
    fname = join(args.out, 'result.h5')
    dname = '{}/{}/{}'.format(backend.name, engine.name, mpi_size())
    shape = (len(args.data_sizes), len(args.chunk_sizes), 3, args.ntest)
    out = h5.File(fname, 'a')
    if dname not in out:
        out.create_dataset(dname, shape=shape, dtype=np.float32)
        out[dname].attrs['axis2_value'] = np.array(['DATA', '3D', '1D'], dtype='S4')
    return out, out[dname]


def blocks(ds, axis=None):
    """(start, stop) slices of this rank's chunk blocks: all axes, or
    slabs along `axis`."""
    grid, size, shape = ds.chunk_grid, ds.chunk_size, ds.shape
    axes = range(ds.ndim) if axis is None else [axis]
    ranges = [[(i * size[a], min((i + 1) * size[a], shape[a])) for i in range(grid[a])]
              for a in axes]
    if axis is None:
        cells = [(z, y, x) for z in ranges[0] for y in ranges[1] for x in ranges[2]]
        cells = [c for i, c in enumerate(cells) if i % mpi_size() == mpi_rank()]
        return [tuple(slice(lo, hi) for lo, hi in c) for c in cells]
    out = []
    for i, (lo, hi) in enumerate(ranges[0]):
        if i % mpi_size() == mpi_rank():
            sl = [slice(None)] * ds.ndim
            sl[axis] = slice(lo, hi)
            out.append(tuple(sl))
    return out


def convolve3d(ds, sigma, reference):
    mpi_barrier()
    with MpiTimer('Separable 3D convolution') as T:
        out = ds.clone(args.prefix + 'gaussian_3d')
        for sl in blocks(ds):
            out[sl] = gaussian_filter(ds[sl], sigma=sigma)
        mpi_barrier()
    for sl in blocks(ds):
        np.testing.assert_allclose(out[sl], gaussian_filter(reference[sl], sigma=sigma),
                                   rtol=1e-6, atol=1e-6)
    mpi_barrier()
    out.delete()
    return T.time


def convolve1d(ds, sigma, reference):
    mpi_barrier()
    with MpiTimer('Three separable 1D convolutions') as T:
        current, names = ds, ['gaussian_z', 'gaussian_y', 'gaussian_x']
        made = []
        for axis, name in enumerate(names):
            pprint('Convolving axis {}'.format(axis), rank=0)
            nxt = ds.clone(args.prefix + name)
            for sl in blocks(ds, axis):
                nxt[sl] = gaussian_filter1d(current[sl], sigma=sigma, axis=axis)
            mpi_barrier()
            made.append(nxt)
            current = nxt
    ref = reference
    for axis in range(3):
        bounds = range(0, ref.shape[axis], ds.chunk_size[axis])
        ref = np.concatenate([gaussian_filter1d(np.take(ref, range(b, min(b + ds.chunk_size[axis],
                                                                          ref.shape[axis])), axis),
                                                sigma=sigma, axis=axis) for b in bounds], axis=axis)
    np.testing.assert_allclose(current[...], ref, rtol=1e-5, atol=1e-6)
    mpi_barrier()
    for d in made:
        d.delete()
    return T.time


if mpi_root():
    hout, dout = results_file()

with Timer('All sizes'):
    for i, size in enumerate(args.data_sizes):
        h5in, data = random_input(size)
        reference = data[...]
        for j, cs in enumerate(args.chunk_sizes):
            if cs > size:
                pprint('Skipping chunk size {} > data size {}'.format(cs, size), rank=0)
                continue
            with dn.Connection(**CONFIG) as connection:
                pprint('Loading {}^3 in chunks of {}^3'.format(size, cs), rank=0)
                with MpiTimer('Data loaded') as t:
                    dataset = connection.create_dataset(args.prefix + 'data', data=data,
                                                        chunk_size=(cs, cs, cs))
                np.testing.assert_array_equal(dataset[...], reference)
                for k in range(args.ntest):
                    t1 = convolve3d(dataset, args.sigma, reference)
                    t2 = convolve1d(dataset, args.sigma, reference)
                    if mpi_root():
                        dout[i, j, :, k] = (t.time, t1, t2)
                with MpiTimer('Data removed'):
                    dataset.delete()
                assert args.prefix + 'data' not in connection
        h5in.close()

if mpi_root():
    assert (dout[...] >= 0).all()
    hout.close()
mpi_barrier()
print('convolution_script: rank {} of {} ok'.format(mpi_rank(), mpi_size()), flush=True)
