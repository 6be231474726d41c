"""`Dataset.attrs`: the dataset's user attributes as a dict-like view.

Values are JSON (str, int, float, bool, None, lists and dicts of them; numpy
scalars and arrays are converted with .item() / .tolist()). Every read asks
the store, every change rewrites the whole attributes object in one write
(the last writer wins); where they are kept: docs/format.md "Attributes".
"""
import json
from collections.abc import MutableMapping

import numpy as np

from . import _dosna


def _to_json(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError('attribute value {!r} ({}) is not JSON'.format(value, type(value).__name__))


class Attributes(MutableMapping):
    """The attributes of one dataset (``ds.attrs``)."""

    def __init__(self, dataset):
        self._ds = dataset

    def asdict(self):
        """All attributes as a new dict (one read of the store)."""
        return json.loads(self._ds._attributes_json())

    def _store(self, attrs):
        try:
            text = json.dumps(attrs, default=_to_json, allow_nan=False)
        except ValueError as e:
            raise ValueError('dataset {!r}: attributes: {}'.format(self._ds.name, e)) from None
        self._ds._set_attributes_json(text)

    def __getitem__(self, key):
        return self.asdict()[key]

    def __setitem__(self, key, value):
        if not isinstance(key, str):
            raise TypeError('attribute names are str, not {}'.format(type(key).__name__))
        attrs = self.asdict()
        attrs[key] = value
        self._store(attrs)

    def __delitem__(self, key):
        attrs = self.asdict()
        del attrs[key]
        self._store(attrs)

    def update(self, *args, **kwargs):
        """Sets several attributes in one write."""
        attrs = self.asdict()
        attrs.update(*args, **kwargs)
        self._store(attrs)

    def put(self, attrs):
        """Replaces all attributes by the dict `attrs` in one write."""
        self._store(dict(attrs))

    def __iter__(self):
        return iter(self.asdict())

    def __len__(self):
        return len(self.asdict())

    def __contains__(self, key):
        return key in self.asdict()

    def __repr__(self):
        return '<Attributes of dataset {!r}: {!r}>'.format(self._ds.name, self.asdict())


_dosna.Dataset.attrs = property(Attributes, doc=Attributes.__doc__)
