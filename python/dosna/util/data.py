"""The original's dosna.util.data."""


def slices2shape(slices):
    """The shape a tuple of slices with explicit start and stop selects:
    (slice(2, 5), slice(0, 4)) -> (3, 4)."""
    return tuple(s.stop - s.start for s in slices)
