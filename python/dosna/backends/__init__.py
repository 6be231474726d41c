"""Storage backends compiled into this build, and the current selection."""

from .. import _dosna

AVAILABLE = list(_dosna.available_backends())
available = AVAILABLE  # the original's spelling
KNOWN = list(_dosna.known_backends())


class Backend(object):
    """A backend selection: its `name` and default connection `params`."""

    def __init__(self, name, **params):
        name = str(name).lower()
        if name not in KNOWN:
            raise _dosna.InvalidArgumentError(
                'unknown backend {!r}; available: {}'.format(name, ', '.join(AVAILABLE)))
        if name not in AVAILABLE:
            raise _dosna.NotBuiltError(
                'backend {!r} is not built into this DosNa; available: {}'.format(
                    name, ', '.join(AVAILABLE)))
        self.name = name
        self.params = dict(params)

    def __repr__(self):
        return '<dosna backend {}{}>'.format(self.name, self.params or '')


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
