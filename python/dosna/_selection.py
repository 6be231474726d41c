"""What dn.use() selects: a backend or an engine with default options."""

from . import _dosna


class Selection(object):
    """A backend or engine selection: `name` and default `params`. It also
    reads like the original's namedtuples, Backend(name, Connection,
    Dataset, DataChunk) and Engine(name, Connection, Dataset, DataChunk,
    params): the fields by name, by index and by unpacking, with
    `Connection` a Connection class bound to this selection."""

    kind = None      # 'backend' or 'engine', set by the subclass
    _fields = ()     # the original's namedtuple fields, set by the subclass

    def __init__(self, name, **params):
        self.name = name
        self.params = dict(params)

    def __repr__(self):
        return '<dosna {} {}{}>'.format(self.kind, self.name, self.params or '')

    @property
    def Connection(self):  # noqa: N802  (the original's field name)
        from .connection import bound_connection
        return bound_connection('Connection', **{self.kind: self.name})

    @property
    def Dataset(self):  # noqa: N802
        return _dosna.Dataset

    @property
    def DataChunk(self):  # noqa: N802
        return _dosna.DataChunk

    def __iter__(self):
        return iter(tuple(getattr(self, f) for f in self._fields))

    def __getitem__(self, i):
        return tuple(self)[i]

    def __len__(self):
        return len(self._fields)
