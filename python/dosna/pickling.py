"""Pickling Connections, Datasets and DataChunks (for Dask workers, multiprocessing).

A pickle holds the *specification* of the store, never a live handle nor a
credential: the connection's name, backend, backend options, engine, engine
options and mode, plus the dataset's name (and a chunk's index). The backend
options are the ones given to ``dn.Connection`` (endpoint_url, conffile,
directory, ...); none of them is a secret. The receiving process resolves the
credentials again, as a connection it opened itself would: s3 from
``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_SESSION_TOKEN`` or the
profile in ``AWS_SHARED_CREDENTIALS_FILE`` (``~/.aws/credentials``) /
``AWS_CONFIG_FILE``; ceph from the keyring its conffile names (``CEPH_CONF``
when no conffile was given). Relative paths are taken relative to the
receiving process's working directory.

Unpickling a Connection gives a new, unconnected Connection (it connects on
first use). Unpickling a Dataset opens it on a connection shared by every
dataset unpickled in that process with the same specification; that
connection connects on the first such unpickle and stays open for the
process's lifetime (a forked child starts its own).

A ram store lives inside one process: a ram Connection or Dataset unpickled
in another process (also a forked child) raises NotSupportedError instead of
showing an empty store.
"""

import os
import threading
import uuid

from . import _dosna

# Identifies this interpreter among processes (with the pid: a forked child
# inherits the token but not the pid).
_PROCESS_TOKEN = uuid.uuid4().hex

_shared_lock = threading.Lock()
_shared = {}  # spec key -> Connection, for this process
_shared_pid = os.getpid()


def _process_identity():
    return '{}:{}'.format(_PROCESS_TOKEN, os.getpid())


def connection_spec(con):
    """The picklable specification of `con` (a dict of plain strings)."""
    spec = {
        'name': con.name,
        'backend': con.backend,
        'engine': con.engine,
        'options': dict(con.options),
        'engine_options': dict(con.engine_options),
        'mode': con.mode,
    }
    if not _dosna.backend_is_shared(spec['backend']):
        spec['process'] = _process_identity()
    return spec


def _check_process(spec):
    origin = spec.get('process')
    if origin is not None and origin != _process_identity():
        raise _dosna.NotSupportedError(
            "ram store '{}' lives in the process that pickled it; a ram Connection or Dataset "
            "cannot be unpickled in another process (use an hdf5, ceph or s3 store to share "
            "datasets between processes)".format(spec['name']))


def new_connection(spec):
    """A new, unconnected dosna.Connection built exactly from `spec`."""
    from .connection import Connection
    _check_process(spec)
    con = Connection.__new__(Connection)
    _dosna.Connection.__init__(con, spec['name'], spec['backend'], spec['engine'],
                               spec['options'], spec['engine_options'], spec['mode'])
    return con


def _spec_key(spec):
    return (spec['name'], spec['backend'], spec['engine'], spec['mode'],
            tuple(sorted(spec['options'].items())),
            tuple(sorted(spec['engine_options'].items())), spec.get('process'))


def shared_connection(spec):
    """This process's connected Connection for `spec`, opened on first call."""
    global _shared_pid
    _check_process(spec)
    key = _spec_key(spec)
    with _shared_lock:
        if _shared_pid != os.getpid():  # forked: the parent's handles are not ours
            _shared.clear()
            _shared_pid = os.getpid()
        con = _shared.get(key)
        if con is None:
            con = _shared[key] = new_connection(spec)
        if not con.connected:
            con.connect()
        return con


def restore_dataset(spec, name):
    return shared_connection(spec).get_dataset(name)


def restore_chunk(dataset, idx):
    return dataset.get_chunk(idx)


def reduce_connection(con):
    return new_connection, (connection_spec(con),)


def reduce_dataset(ds):
    return restore_dataset, (connection_spec(ds.connection), ds.name)


def reduce_chunk(chunk):
    return restore_chunk, (chunk.dataset, tuple(chunk.idx))


def install():
    """Makes Connection (also the C++ one), Dataset and DataChunk picklable."""
    _dosna.Connection.__reduce__ = reduce_connection
    _dosna.Dataset.__reduce__ = reduce_dataset
    _dosna.DataChunk.__reduce__ = reduce_chunk
