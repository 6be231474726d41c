"""Execution engines compiled into this build, and the current selection.

`jl` and `joblib` are the thread-pool engine (`threads`)."""

from .. import _dosna


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


class Engine(object):
    """An engine selection: its `name` and default engine `params`."""

    def __init__(self, name, **params):
        name = str(name).lower()
        if name not in KNOWN and _dosna.canonical_engine_name(name) not in KNOWN:
            raise _dosna.InvalidArgumentError(
                'unknown engine {!r}; available: {}'.format(name, ', '.join(AVAILABLE)))
        if name not in AVAILABLE:
            raise _dosna.NotBuiltError(
                'engine {!r} is not built into this DosNa; available: {}'.format(
                    name, ', '.join(AVAILABLE)))
        self.name = name
        self.params = dict(params)

    def __repr__(self):
        return '<dosna engine {}{}>'.format(self.name, self.params or '')


_current = Engine('cpu')


def use_engine(name, **params):
    global _current
    _current = Engine(name, **params)
    return _current


def get_engine(name=None):
    if name is not None:
        use_engine(name)
    return _current
