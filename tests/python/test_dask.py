"""Datasets travel to other processes: pickles hold the store's specification,
never a credential; a fresh process reconnects from it; Dask worker processes
read DosNa datasets with from_array and write them with store(lock=False).

The Dask tests run over every store that holds data outside one process
(hdf5, ceph, s3; the `file` store joins by being a known backend) and every
dataset format of that store (today only DosNa's own layout; the zarr formats
join once create_dataset takes `format=`)."""

import functools
import inspect
import logging
import os
import pickle
import re
import subprocess
import sys

import numpy as np
import pytest
from scipy import ndimage

import dask.array as da
from distributed import Client, LocalCluster, get_task_stream

import dosna as dn
from conftest import Store, services_required, unique

SHARED_BACKENDS = [b for b in ('hdf5', 'file', 'ceph', 's3') if b in dn.backends.KNOWN]


def dataset_formats(backend):
    if 'format' not in inspect.signature(dn.Connection.create_dataset).parameters:
        return [None]  # one format, create_dataset has no choice yet
    # the stores holding zarr today (src/core/registry.cc holds_zarr)
    return {'hdf5': ['dosna'], 'file': ['zarr3', 'zarr2']}.get(backend, ['dosna', 'zarr3', 'zarr2'])


def open_store(backend, tmp_path):
    s = Store(backend, 'cpu', tmp_path)
    if s.skip:
        if backend in dn.backends.AVAILABLE and services_required():
            pytest.fail('DOSNA_REQUIRE_SERVICES is set but ' + s.skip)
        pytest.skip(s.skip)
    return s


@pytest.fixture
def shared(request, tmp_path):
    """(connection, create) on a fresh store; `create(**kw)` makes a dataset
    in the parametrised format and deletes it afterwards."""
    backend, fmt = request.param
    con = open_store(backend, tmp_path).connection()
    con.connect()
    made = []

    def create(**kw):
        if fmt is not None:
            kw['format'] = fmt
        made.append(unique('dask'))
        return con.create_dataset(made[-1], **kw)

    yield con, create
    for name in made:
        if con.has_dataset(name):
            con.del_dataset(name)
    con.disconnect()


STORE_PARAMS = [pytest.param((b, f), id='{}-{}'.format(b, f or 'native'))
                for b in SHARED_BACKENDS for f in dataset_formats(b)]


# ------------------------------------------------------------------ pickles

def secrets_of_environment():
    """Every credential a connection of this environment could use."""
    found = [os.environ.get(k) for k in ('AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN')]
    creds = os.environ.get('AWS_SHARED_CREDENTIALS_FILE')
    if creds and os.path.exists(creds):
        found += re.findall(r'aws_secret_access_key\s*=\s*(\S+)', open(creds).read())
    conf = os.environ.get('CEPH_CONF')
    if conf and os.path.exists(conf):
        for keyring in re.findall(r'^\s*keyring\s*=\s*(\S+)', open(conf).read(), re.M):
            if os.path.exists(keyring):
                found += re.findall(r'key\s*=\s*(\S+)', open(keyring).read())
    return [s for s in found if s]


# Reads a pickle from stdin in a new interpreter, writes ds[1] = 7 through it
# and answers with a pickle of what it read (or of the error's type and text).
CHILD = r'''
import pickle, sys
try:
    obj = pickle.loads(sys.stdin.buffer.read())
    ds = obj if hasattr(obj, 'shape') else obj.get_dataset(sys.argv[1])
    before = ds[...]
    ds[1] = 7
    out = ('ok', before, ds.connection.connected)
except Exception as e:
    out = ('error', type(e).__name__, str(e))
sys.stdout.buffer.write(pickle.dumps(out))
'''


def in_fresh_process(blob, dataset_name='', env=None):
    r = subprocess.run([sys.executable, '-c', CHILD, dataset_name], input=blob,
                       capture_output=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr.decode()
    return pickle.loads(r.stdout)


@pytest.mark.parametrize('backend', SHARED_BACKENDS)
def test_pickles_reconnect_in_a_fresh_process_without_secrets(backend, tmp_path):
    con = open_store(backend, tmp_path).connection()
    con.connect()
    name = unique('pk')
    data = np.arange(4 * 6, dtype=np.int32).reshape(4, 6)
    ds = con.create_dataset(name, data=data, chunk_size=(3, 4))
    try:
        secrets = secrets_of_environment()
        if backend == 's3':
            assert os.environ['AWS_SECRET_ACCESS_KEY'] in secrets
        if backend == 'ceph':
            assert len(secrets) > 0, 'no ceph key found to look for'
        blobs = {'dataset': pickle.dumps(ds), 'connection': pickle.dumps(con),
                 'chunk': pickle.dumps(ds.get_chunk((1, 1)))}
        for what, blob in blobs.items():
            for secret in secrets:
                assert secret.encode() not in blob, '{} pickle holds a secret'.format(what)

        status, before, connected = in_fresh_process(blobs['dataset'])
        assert status == 'ok' and connected
        np.testing.assert_array_equal(before, data)
        data[1] = 7
        np.testing.assert_array_equal(ds[...], data)

        status, before, _ = in_fresh_process(blobs['connection'], name)
        assert status == 'ok'
        np.testing.assert_array_equal(before, data)

        chunk = pickle.loads(blobs['chunk'])
        assert chunk.idx == (1, 1)
        np.testing.assert_array_equal(chunk[:1, :2], data[3:, 4:])  # the part inside the dataset
        assert pickle.loads(blobs['dataset']).connection is chunk.dataset.connection
        again = pickle.loads(blobs['connection'])
        assert not again.connected  # a Connection reconnects on first use
        assert (again.name, again.backend, again.options) == (con.name, con.backend, con.options)
    finally:
        con.del_dataset(name)
        con.disconnect()


@pytest.mark.skipif('s3' not in dn.backends.AVAILABLE, reason='s3 not built')
def test_s3_worker_resolves_credentials_from_its_profile(tmp_path):
    """Without AWS_* keys in its environment, the receiving process finds the
    credentials in its shared credentials file."""
    con = open_store('s3', tmp_path).connection()
    creds = os.environ.get('AWS_SHARED_CREDENTIALS_FILE')
    if not creds or 'aws_secret_access_key' not in open(creds).read():
        pytest.fail('s3 test environment has no shared credentials file')
    con.connect()
    name = unique('pk')
    ds = con.create_dataset(name, data=np.ones((3, 3)), chunk_size=(2, 2))
    try:
        env = {k: v for k, v in os.environ.items()
               if k not in ('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN')}
        status, before, _ = in_fresh_process(pickle.dumps(ds), env=env)
        assert status == 'ok'
        np.testing.assert_array_equal(before, np.ones((3, 3)))
        env['AWS_SHARED_CREDENTIALS_FILE'] = str(tmp_path / 'none')
        env['AWS_CONFIG_FILE'] = str(tmp_path / 'none')
        assert in_fresh_process(pickle.dumps(ds), env=env)[:2] == ('error', 'PermissionDeniedError')
    finally:
        con.del_dataset(name)
        con.disconnect()


def test_ram_pickles_only_within_their_process():
    con = dn.Connection(unique('ram'), backend='ram')
    ds = con.create_dataset('a', data=np.arange(5.0))
    copy = pickle.loads(pickle.dumps(ds))  # same process: the same store
    copy[0] = -1
    assert ds[0] == -1
    for blob in (pickle.dumps(ds), pickle.dumps(con)):
        status, kind, message = in_fresh_process(blob, 'a')
        assert (status, kind) == ('error', 'NotSupportedError')
        assert 'ram store' in message and 'another process' in message
    blob = pickle.dumps(ds)
    pid = os.fork()
    if pid == 0:  # a forked child inherits a copy of the store, not the store
        try:
            pickle.loads(blob)
            os._exit(1)
        except dn.NotSupportedError:
            os._exit(0)
        except BaseException:
            os._exit(2)
    assert os.waitpid(pid, 0)[1] == 0
    con.del_dataset('a')


# --------------------------------------------------------------------- dask

@pytest.fixture(scope='module')
def client():
    cluster = LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host='127.0.0.1',
                           dashboard_address=None, silence_logs=logging.WARNING)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def stored_by(ts):
    """The workers that ran store tasks in a task stream."""
    return {t['worker'] for t in ts.data if t['key'].startswith("('store-map")}


@pytest.mark.parametrize('shared', STORE_PARAMS, indirect=True)
def test_gaussian_map_overlap_by_two_workers_equals_scipy(shared, client):
    con, create = shared
    vol = np.random.default_rng(16).random((40, 40, 40))
    src = create(data=vol, chunk_size=(16, 16, 16))
    # Output chunks of 24 straddle the dask blocks of 16: up to 8 tasks write
    # parts of one DosNa chunk.
    dst = create(shape=vol.shape, dtype=vol.dtype, fillvalue=-1, chunk_size=(24, 24, 24))
    sigma = 1.5
    depth = int(4.0 * sigma + 0.5)  # scipy's kernel radius at truncate=4
    x = da.from_array(src, chunks=src.chunk_size)
    y = x.map_overlap(functools.partial(ndimage.gaussian_filter, sigma=sigma),
                      depth=depth, boundary='reflect')  # dask's reflect = scipy's
    with get_task_stream(client) as ts:
        da.store(y, dst, lock=False)
    assert len(stored_by(ts)) == 2
    np.testing.assert_allclose(dst[...], ndimage.gaussian_filter(vol, sigma), rtol=1e-12, atol=0)


@pytest.mark.parametrize('shared', STORE_PARAMS, indirect=True)
def test_concurrent_partial_chunk_writes_from_workers_lose_nothing(shared, client):
    con, create = shared
    want = np.arange(30 * 30 * 30, dtype=np.int64).reshape(30, 30, 30)
    # 240 dask blocks of 4x5x6, each a partial write into one of 8 DosNa chunks.
    dst = create(shape=want.shape, dtype=want.dtype, fillvalue=-1, chunk_size=(15, 15, 15))
    x = da.from_array(want, chunks=(4, 5, 6))
    with get_task_stream(client) as ts:
        da.store(x, dst, lock=False)
    assert len(stored_by(ts)) == 2
    got = dst[...]
    lost = np.count_nonzero(got != want)
    assert lost == 0, '{} of {} elements lost'.format(lost, want.size)
