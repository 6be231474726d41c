"""The s3 backend over radosgw's https endpoint from Python: verify=<CA
bundle> round-trips, an unknown CA raises dosna.ConnectionError, verify=False
works and issues one dosna.DosnaWarning (a UserWarning) per endpoint."""

import os
import warnings

import numpy as np
import pytest

import dosna as dn
from conftest import services_required, unique


@pytest.fixture
def https():
    endpoint = os.environ.get('DOSNA_S3_HTTPS_ENDPOINT')
    ca = os.environ.get('DOSNA_S3_CA_BUNDLE')
    if not endpoint or not ca or 's3' not in dn.backends.AVAILABLE:
        why = 's3 over https: DOSNA_S3_HTTPS_ENDPOINT/DOSNA_S3_CA_BUNDLE not set or s3 not built'
        if services_required():
            pytest.fail(why)
        pytest.skip(why)
    return endpoint, ca


def test_verified_round_trip(https):
    endpoint, ca = https
    with dn.Connection(unique('tls'), backend='s3', endpoint_url=endpoint, verify=ca) as con:
        data = np.arange(600, dtype='f8').reshape(20, 30)
        name = unique('tls')
        ds = con.create_dataset(name, data=data, chunk_size=(8, 8))
        np.testing.assert_array_equal(ds[...], data)
        con.del_dataset(name)


def test_unknown_ca_is_a_connection_error(https):
    endpoint, _ = https
    con = dn.Connection(unique('tls'), backend='s3', endpoint_url=endpoint)
    with pytest.raises(dn.ConnectionError, match='not trusted'):
        con.connect()


def test_verify_false_warns_once(https):
    endpoint, _ = https
    # Another spelling of the endpoint than other tests use: "once" is per
    # process and endpoint.
    port = endpoint.rsplit(':', 1)[1]
    url = 'https://localhost:' + port
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        for _ in range(3):
            with dn.Connection(unique('tls'), backend='s3', endpoint_url=url, verify=False) as con:
                con.connect()
    insecure = [w for w in caught if issubclass(w.category, dn.DosnaWarning)]
    assert len(insecure) == 1, [str(w.message) for w in caught]
    assert issubclass(dn.DosnaWarning, UserWarning)
    assert 'insecure' in str(insecure[0].message)
