"""The original's dosna.tests helper (its unittest modules are not part of
this package: tests/python holds this DosNa's own)."""

import logging
import sys


def configure_logger(log):
    """Sends `log` to stdout at DEBUG level with time, name and level."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter('%(asctime)s - %(name)s - %(levelname)s - %(message)s'))
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
