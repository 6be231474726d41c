"""Storage backends compiled into this build, and the current selection."""

import logging

from .. import _dosna
from .._selection import Selection
from ..util import named_module  # noqa: F401  (the original imports it here)

log = logging.getLogger(__name__)

AVAILABLE = list(_dosna.available_backends())
available = AVAILABLE  # the original's spelling
KNOWN = list(_dosna.known_backends())


class Backend(Selection):
    """A backend selection: its `name` and default connection `params`."""

    kind = 'backend'
    _fields = ('name', 'Connection', 'Dataset', 'DataChunk')

    def __init__(self, name, **params):
        name = str(name).lower()
        if name not in KNOWN:
            raise _dosna.InvalidArgumentError(
                'unknown backend {!r}; available: {}'.format(name, ', '.join(AVAILABLE)))
        if name not in AVAILABLE:
            raise _dosna.NotBuiltError(
                'backend {!r} is not built into this DosNa; available: {}'.format(
                    name, ', '.join(AVAILABLE)))
        Selection.__init__(self, name, **params)


_current = Backend('ram')


def use_backend(name, **params):
    global _current
    _current = Backend(name, **params)
    return _current


def get_backend(name=None):
    if name is not None:
        use_backend(name)
    return _current
from . import base  # noqa: E402,F401  (dosna.backends.base.DatasetNotFoundError)
