#!/usr/bin/env python3
"""dask_zarr: one Dask pipeline -- from_array, a Gaussian filter through
map_overlap, store(lock=False) -- over a DosNa dataset and over a zarr-python
array in a local directory, with the same volume, chunks, dask cluster
(LocalCluster, --workers processes of one thread, 127.0.0.1, no dashboard)
and codec (DosNa stores raw chunks; zarr gets compressor=None).

--sigma 0 makes the pipeline a plain copy, to see the stores' I/O alone.
Each of --reps rounds runs every store once (interleaved, so a change of the
machine's load hits all). Prints one JSON line per store (seconds = median
pipeline time, min, MB/s of the volume, load1 = the 1-minute load average
before each round and at the end) and,
with --check, verifies each output against scipy.ndimage.gaussian_filter of
the whole volume (outside the timed part; a mismatch exits 1).

    . /tmp/svc/env.sh    # scripts/local-services.sh start /tmp/svc
    PYTHONPATH=build/python /usr/bin/python3 bench/dask_zarr.py --stores ceph,zarr

Stores: ceph (pool $DOSNA_CEPH_POOL, $CEPH_CONF), s3 ($DOSNA_S3_ENDPOINT),
hdf5 and zarr (directories under --dir, default a temp directory).
"""

import argparse
import functools
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time

import numpy as np
from scipy import ndimage

import dask.array as da
from distributed import Client, LocalCluster

import dosna as dn


def parse_shape(text):
    return tuple(int(v) for v in text.split(','))


def open_dosna(kind, workdir):
    if kind == 'ceph':
        return dn.Connection(os.environ['DOSNA_CEPH_POOL'], backend='ceph',
                             conffile=os.environ['CEPH_CONF'])
    if kind == 's3':
        return dn.Connection('dask-bench', backend='s3',
                             endpoint_url=os.environ['DOSNA_S3_ENDPOINT'])
    if kind == 'hdf5':
        os.makedirs(os.path.join(workdir, 'hdf5'), exist_ok=True)
        return dn.Connection('hdf5', backend='hdf5', directory=workdir)
    raise SystemExit('dask_zarr: unknown store ' + kind)


class DosnaStore(object):
    def __init__(self, kind, workdir):
        self.kind = kind
        self.con = open_dosna(kind, workdir)
        self.con.connect()
        self.names = []

    def create(self, vol, chunks, data):
        name = 'dask-bench-{}-{}'.format(os.getpid(), len(self.names))
        self.names.append(name)
        if data:
            return self.con.create_dataset(name, data=vol, chunk_size=chunks)
        return self.con.create_dataset(name, shape=vol.shape, dtype=vol.dtype, chunk_size=chunks)

    def close(self):
        for name in self.names:
            if self.con.has_dataset(name):
                self.con.del_dataset(name)
        self.con.disconnect()


class ZarrStore(object):
    kind = 'zarr'

    def __init__(self, workdir):
        import zarr
        self.zarr = zarr
        self.root = os.path.join(workdir, 'zarr')
        self.count = 0

    def create(self, vol, chunks, data):
        self.count += 1
        path = os.path.join(self.root, 'a{}'.format(self.count))
        z = self.zarr.open(path, mode='w', shape=vol.shape, chunks=chunks, dtype=vol.dtype,
                           compressor=None, fill_value=0)
        if data:
            z[...] = vol
        return z

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)


def pipeline(src, dst, chunks, sigma):
    x = da.from_array(src, chunks=chunks)
    if sigma > 0:
        depth = int(4.0 * sigma + 0.5)  # scipy's kernel radius at truncate=4
        x = x.map_overlap(functools.partial(ndimage.gaussian_filter, sigma=sigma), depth=depth,
                          boundary='reflect')
    da.store(x, dst, lock=False)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--stores', default='ceph,zarr', help='comma-separated: ceph, s3, hdf5, zarr')
    p.add_argument('--shape', default='256,256,256')
    p.add_argument('--chunks', default='64,64,64')
    p.add_argument('--dtype', default='float32')
    p.add_argument('--sigma', type=float, default=1.5, help='0: a plain copy (I/O only)')
    p.add_argument('--workers', type=int, default=2)
    p.add_argument('--reps', type=int, default=3)
    p.add_argument('--dir', default=None, help='parent of the hdf5 and zarr directories')
    p.add_argument('--check', action='store_true', help='compare every output with scipy')
    args = p.parse_args()

    shape, chunks = parse_shape(args.shape), parse_shape(args.chunks)
    vol = np.random.default_rng(0).random(shape).astype(args.dtype)
    want = None
    if args.check:
        want = ndimage.gaussian_filter(vol, args.sigma) if args.sigma > 0 else vol
    workdir = args.dir or tempfile.mkdtemp(prefix='dask-zarr-')
    cluster = LocalCluster(n_workers=args.workers, processes=True, threads_per_worker=1,
                           host='127.0.0.1', dashboard_address=None, silence_logs=logging.WARNING)
    client = Client(cluster)
    failed = False
    stores = []
    try:
        for kind in args.stores.split(','):
            stores.append(ZarrStore(workdir) if kind == 'zarr' else DosnaStore(kind, workdir))
        sources = [st.create(vol, chunks, data=True) for st in stores]
        times = [[] for _ in stores]
        loads = []
        # Rounds interleave the stores, so a change of machine load hits all.
        for _ in range(args.reps):
            loads.append(os.getloadavg()[0])
            for st, src, ts in zip(stores, sources, times):
                dst = st.create(vol, chunks, data=False)
                t0 = time.perf_counter()
                pipeline(src, dst, chunks, args.sigma)
                ts.append(time.perf_counter() - t0)
                if want is not None and not np.array_equal(dst[...], want):
                    print('dask_zarr: {} output differs from scipy'.format(st.kind), file=sys.stderr)
                    failed = True
        loads.append(os.getloadavg()[0])
        for st, ts in zip(stores, times):
            med = statistics.median(ts)
            print(json.dumps({
                'store': st.kind, 'workers': args.workers, 'shape': list(shape),
                'chunks': list(chunks), 'dtype': args.dtype, 'sigma': args.sigma,
                'reps': args.reps, 'seconds': round(med, 4), 'min_seconds': round(min(ts), 4),
                'mb_per_s': round(vol.nbytes / med / 1e6, 1),
                'load1': [round(v, 2) for v in loads],
            }), flush=True)
    finally:
        for st in stores:
            st.close()
        client.close()
        cluster.close()
        if args.dir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
