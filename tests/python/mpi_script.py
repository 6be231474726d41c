"""Run under `mpiexec -n N /usr/bin/python3 mpi_script.py BACKEND DATASET [DIR]`.

Every rank runs the same DosNa script on the mpi engine: create/delete happen
once with barriers, load/apply/map/clear split chunks across ranks, slicing
is per rank. With DOSNA_MPI4PY_FIRST=1 the script imports mpi4py before dosna
(mpi4py then initialises MPI, and the engine must use that).
"""

import os
import sys

if os.environ.get('DOSNA_MPI4PY_FIRST') == '1':
    from mpi4py import MPI  # noqa: F401
else:
    MPI = None

import numpy as np  # noqa: E402

import dosna as dn  # noqa: E402
from dosna.util.mpi import mpi_barrier, mpi_rank, mpi_root, mpi_size  # noqa: E402


def main():
    backend, dsname = sys.argv[1], sys.argv[2]
    if backend == 'hdf5':
        name, options = 'store', {'directory': sys.argv[3]}
    elif backend == 'ceph':
        name, options = os.environ['DOSNA_CEPH_POOL'], {'conffile': os.environ['CEPH_CONF']}
    else:
        raise SystemExit('mpi_script: backend {} has no MPI test store'.format(backend))
    assert dn.compatible(backend, 'mpi')
    dn.use(backend=backend, engine='mpi')
    assert dn.status().engine.name == 'mpi'
    if MPI is not None:
        assert 'mpi4py' in sys.modules
    else:
        assert 'mpi4py' not in sys.modules, 'dosna imported mpi4py by itself'

    with dn.Connection(name, **options) as con:
        rank, size = con.mpi_rank, con.mpi_size
        assert size == int(os.environ.get('DOSNA_MPI_EXPECT_SIZE', '2')), size
        assert (rank, size) == (mpi_rank(), mpi_size())
        assert con.mpi_is_root == (rank == 0) == mpi_root()
        if MPI is not None:
            assert (rank, size) == (MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size())

        data = np.arange(20 * 12 * 7, dtype=np.float32).reshape(20, 12, 7)
        ds = con.create_dataset(dsname, data=data, chunk_size=(6, 5, 4), fillvalue=-1)
        assert ds.mpi_rank == rank and ds.mpi_size == size
        np.testing.assert_array_equal(ds[...], data)
        mpi_barrier()  # everyone has checked before anyone writes

        # Slicing is per rank: each writes its own chunk-aligned slabs of 6
        # rows (ranks never share a chunk: cross-process writes to one chunk
        # are not atomic on every backend).
        ref = data.copy()
        for i, start in enumerate(range(0, data.shape[0], 6)):
            if i % size == rank:
                ds[start:start + 6] = rank + 100
            ref[start:start + 6] = i % size + 100
        mpi_barrier()
        np.testing.assert_array_equal(ds[...], ref)
        mpi_barrier()

        ds.apply(lambda c: c * 2)   # chunks split across ranks
        mpi_barrier()
        np.testing.assert_array_equal(ds[...], ref * 2)
        mpi_barrier()

        out = ds.map(lambda c: c + 1, dsname + '-map')
        mpi_barrier()
        np.testing.assert_array_equal(out[...], ref * 2 + 1)
        mpi_barrier()

        ds.load(data)
        mpi_barrier()
        np.testing.assert_array_equal(ds[...], data)
        mpi_barrier()

        ds.clear()
        mpi_barrier()
        np.testing.assert_array_equal(ds[...], np.full(data.shape, -1, np.float32))
        mpi_barrier()

        out.delete()
        con.del_dataset(dsname)
        assert dsname not in con and dsname + '-map' not in con
    print('mpi_script: rank {} of {} ok'.format(rank, size), flush=True)


if __name__ == '__main__':
    try:
        main()
    except BaseException:
        # A failing rank must not leave the others waiting in a barrier:
        # exiting without MPI_Finalize makes mpiexec abort the whole job.
        import traceback
        traceback.print_exc()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)
