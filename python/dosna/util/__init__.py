"""The original's dosna.util: helpers its users' scripts import (Timer,
shape2str, str2shape, dtype2str, DirectoryTreeMixin, named_module), with its
behaviour. MPI helpers: dosna.util.mpi; slices2shape: dosna.util.data."""

import importlib
import logging
import os
import time

import numpy as np

log = logging.getLogger(__name__)


def shape2str(dims, sep='::'):
    """(100, 100) -> '100::100', the metadata text form."""
    return sep.join(map(str, dims))


def str2shape(string, sep='::'):
    """'100::100' -> (100, 100)."""
    return tuple(map(int, string.split(sep)))


def dtype2str(dtype):
    """numpy's dtype.str of `dtype` ('<f4')."""
    return np.dtype(dtype).str


class Timer(object):
    """A context manager timing its block: on exit `time` holds the seconds
    (`tstart`, `tend` the clock readings, -1 before) and it prints
    ``[*] NAME -- Elapsed: S seconds``. `with Timer(...) as t` gives the timer."""

    def __init__(self, name='Timer'):
        self.name = name
        self.tstart = -1
        self.tend = -1
        self.time = 0

    def __enter__(self):
        self.tstart = time.time()
        return self

    def __exit__(self, *args):
        self.tend = time.time()
        self.time = self.tend - self.tstart
        print('[*] {} -- Elapsed: {:.4f} seconds'.format(self.name, self.time))


class DirectoryTreeMixin(object):
    """`path` and `relpath(name)` of an object in a directory tree: an object
    with a `directory` attribute lives at <directory>/<name>, any other at
    its `parent`'s relpath(name)."""

    @property
    def path(self):
        if getattr(self, 'directory', False):
            return os.path.join(self.directory, self.name)
        return self.parent.relpath(self.name)

    def relpath(self, name=''):
        return os.path.join(self.path, name)


def named_module(name):
    """importlib.import_module(name)."""
    return importlib.import_module(name)
