"""dosna.open(uri): every store kind by URI, con.uri, options beside the URI,
bad URIs."""

import urllib.parse

import numpy as np
import pytest

import dosna as dn
from conftest import usable_store


def store_uri(store):
    opts = {k: v for k, v in store.options.items() if k not in ('directory', 'njobs')}
    path = store.name
    if 'directory' in store.options:
        path = store.options['directory'] + '/' + store.name
    query = '?' + urllib.parse.urlencode(opts, safe='/:') if opts else ''
    return '{}://{}{}'.format(store.backend, path, query)


@pytest.mark.parametrize('backend', ['ram', 'file', 'hdf5', 'ceph', 's3'])
def test_open_each_store(backend, tmp_path):
    store = usable_store(backend, 'cpu', tmp_path)
    uri = store_uri(store)
    name = store.dataset_name()
    data = np.arange(12, dtype='<i4').reshape(3, 4)
    con = dn.open(uri, engine='cpu')
    try:
        assert con.connected and con.backend == backend and con.name == store.name
        assert con.uri == uri
        con.create_dataset(name, data=data, chunk_size=(2, 2))
        # The printed URI opens the same store again.
        if backend != 'ram':
            with dn.open(con.uri) as again:
                assert (again[name][:] == data).all()
    finally:
        if con.has_dataset(name):
            con.del_dataset(name)
        con.disconnect()


def test_options_beside_the_uri(tmp_path):
    (tmp_path / 's').mkdir()
    with dn.open('hdf5://{}/s?durable=false'.format(tmp_path), durable=True) as con:
        assert con.options == {'directory': str(tmp_path), 'durable': 'true'}
        assert con.uri == 'hdf5://{}/s?durable=true'.format(tmp_path)
    with dn.open('ram://open-engine', engine='jl', njobs=2) as con:
        assert con.engine == 'threads' and con.engine_options == {'njobs': '2'}
        assert con.uri == 'ram://open-engine'


def test_percent_escapes(tmp_path):
    (tmp_path / 'a b').mkdir()
    with dn.open('hdf5://{}/a%20b'.format(tmp_path)) as con:
        assert con.name == 'a b'
        assert con.uri == 'hdf5://{}/a%20b'.format(tmp_path)


@pytest.mark.parametrize('uri, words', [
    ('scratch', 'is not a URI'),
    ('nfs://x', "unknown backend 'nfs'"),
    ('ram://', 'names no ram store'),
    ('ceph://p?conffile=/a&conffile=/b', "'conffile' is given twice"),
    ('hdf5:///d/n?directory=/e', "'directory' is not allowed"),
    ('ram://x?bogus=1', 'bogus'),
])
def test_bad_uris(uri, words):
    with pytest.raises(dn.InvalidArgumentError, match=words):
        dn.open(uri)
