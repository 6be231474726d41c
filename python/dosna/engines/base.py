"""The original's dosna.engines.base names. Its engine wrapper classes are
this DosNa's one Connection / Dataset / DataChunk (isinstance works; an
engine is written in C++, not by subclassing these). `instance`, the
wrapped backend object, is the object itself."""

import logging

from .._dosna import DataChunk as EngineDataChunk  # noqa: F401
from .._dosna import Dataset as EngineDataset  # noqa: F401
from ..connection import Connection as EngineConnection  # noqa: F401

log = logging.getLogger(__name__)


class BackendWrapper(object):
    """The original's base of its engine classes: forwards every attribute
    it lacks to `instance`."""

    instance = None

    def __init__(self, instance):
        self.instance = instance

    def __getattr__(self, attr):
        return getattr(self.instance, attr)

    def __enter__(self):
        self.instance.__enter__()
        return self

    def __exit__(self, *args):
        self.instance.__exit__(*args)
