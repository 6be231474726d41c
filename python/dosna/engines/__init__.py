"""Execution engines compiled into this build, and the current selection.

`jl` and `joblib` are the thread-pool engine (`threads`)."""

import logging

from .. import _dosna
from .._selection import Selection
from ..util import named_module  # noqa: F401  (the original imports it here)

log = logging.getLogger(__name__)


def _available():
    names = list(_dosna.available_engines())
    if 'threads' in names:
        for alias in ('jl', 'joblib'):
            if alias not in names:
                names.append(alias)
    return names


AVAILABLE = _available()
available = AVAILABLE  # the original's spelling
KNOWN = list(_dosna.known_engines())


class Engine(Selection):
    """An engine selection: its `name` and default engine `params`."""

    kind = 'engine'
    _fields = ('name', 'Connection', 'Dataset', 'DataChunk', 'params')

    def __init__(self, name, **params):
        name = str(name).lower()
        if name not in KNOWN and _dosna.canonical_engine_name(name) not in KNOWN:
            raise _dosna.InvalidArgumentError(
                'unknown engine {!r}; available: {}'.format(name, ', '.join(AVAILABLE)))
        if name not in AVAILABLE:
            raise _dosna.NotBuiltError(
                'engine {!r} is not built into this DosNa; available: {}'.format(
                    name, ', '.join(AVAILABLE)))
        Selection.__init__(self, name, **params)


_current = Engine('cpu')


def use_engine(name, **params):
    global _current
    _current = Engine(name, **params)
    return _current


def get_engine(name=None):
    if name is not None:
        use_engine(name)
    return _current
