"""Fixtures: one store per backend x engine available in this build.

A backend whose service environment is missing (ceph: CEPH_CONF +
DOSNA_CEPH_POOL; s3: DOSNA_S3_ENDPOINT + AWS credentials) is SKIPPED with the
reason, unless DOSNA_REQUIRE_SERVICES is set, in which case it FAILS.
"""

import os
import uuid

import pytest

import dosna as dn


def services_required():
    return os.environ.get('DOSNA_REQUIRE_SERVICES', '') not in ('', '0', 'false', 'no')


def unique(prefix='t'):
    # Lowercase letters, digits and '-': valid as an S3 bucket and a Ceph name.
    return '{}-{}'.format(prefix, uuid.uuid4().hex[:12])


def matrix_engines():
    seen, out = set(), []
    for name in dn.engines.AVAILABLE:
        canonical = dn._dosna.canonical_engine_name(name)
        if canonical == 'mpi' or canonical in seen:
            continue
        seen.add(canonical)
        out.append('jl' if canonical == 'threads' else name)
    return out


BACKENDS = ['ram', 'hdf5', 'ceph', 's3']


class Store(object):
    """How to open a connection to a fresh store of one backend."""

    def __init__(self, backend, engine, tmp_path):
        self.backend = backend
        self.engine = engine
        self.options = {}
        self.name = unique('py')
        self.skip = None
        if backend not in dn.backends.AVAILABLE:
            self.skip = 'backend {} not built'.format(backend)
        elif backend in ('hdf5', 'file'):  # a store rooted at <directory>/<name>
            (tmp_path / 'store').mkdir()
            self.name = 'store'
            self.options = {'directory': str(tmp_path)}
        elif backend == 'ceph':
            pool, conf = os.environ.get('DOSNA_CEPH_POOL'), os.environ.get('CEPH_CONF')
            if not pool or not conf:
                self.skip = 'ceph: DOSNA_CEPH_POOL/CEPH_CONF not set (scripts/local-services.sh)'
            self.name = pool
            self.options = {'conffile': conf}
        elif backend == 's3':
            endpoint = os.environ.get('DOSNA_S3_ENDPOINT')
            if not endpoint or not os.environ.get('AWS_ACCESS_KEY_ID'):
                self.skip = 's3: DOSNA_S3_ENDPOINT/AWS_ACCESS_KEY_ID not set (scripts/local-services.sh)'
            self.options = {'endpoint_url': endpoint}
        if self.engine in ('jl', 'joblib', 'threads'):
            self.options['njobs'] = 3

    def connection(self):
        return dn.Connection(self.name, backend=self.backend, engine=self.engine, **self.options)

    def dataset_name(self):
        return unique('ds')


def usable_store(backend, engine, tmp_path):
    """A Store, or the test skipped (failed with DOSNA_REQUIRE_SERVICES when
    the backend is built but its service is not configured)."""
    s = Store(backend, engine, tmp_path)
    if s.skip:
        built = backend in dn.backends.AVAILABLE
        if built and services_required():
            pytest.fail('DOSNA_REQUIRE_SERVICES is set but ' + s.skip)
        pytest.skip(s.skip)
    return s


@pytest.fixture(params=[(b, e) for b in BACKENDS for e in matrix_engines()],
                ids=lambda p: '{}-{}'.format(*p))
def store(request, tmp_path):
    return usable_store(request.param[0], request.param[1], tmp_path)


@pytest.fixture
def con(store):
    c = store.connection()
    c.connect()
    created = []
    c.tracked = created
    yield c
    if c.connected:
        for name in c.list_datasets() if store.backend == 'ram' else created:
            if c.has_dataset(name):
                c.del_dataset(name)
        c.disconnect()


@pytest.fixture
def new_name(con, store):
    def make():
        name = store.dataset_name()
        con.tracked.append(name)
        return name
    return make


@pytest.fixture(autouse=True)
def reset_selection():
    yield
    dn.use(backend='ram', engine='cpu')
    dn.backends.get_backend().params.clear()
    dn.engines.get_engine().params.clear()
