"""When the server holds back Python's full garbage collections.

A full collection scans every tracked object with the interpreter held: on a server that keeps
millions of long-lived objects (a review, a column lineage map, dbt's modules) one takes
100-400 ms, and health probes wait that long. So while such objects arrive, full collections
are held back (young ones go on and take requests' short-lived garbage), and when they have
arrived they are frozen out of every later collection.

Used from the event loop only (no locking); holds may overlap, e.g. the column lineage map and
the warehouse's first connection right after ready.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# The gen-2 threshold while full collections are held: never reached.
FULL_COLLECTIONS_OFF = 1 << 30


class _Holds:
    depth = 0
    saved = 0


@contextmanager
def full_collections_held() -> Iterator[None]:
    """No full collection inside; on the way out, what survived is frozen, and the threshold
    the outermost hold found is put back."""
    if _Holds.depth == 0:
        young, middle, full = gc.get_threshold()
        _Holds.saved = full
        gc.set_threshold(young, middle, FULL_COLLECTIONS_OFF)
    _Holds.depth += 1
    try:
        yield
    finally:
        _Holds.depth -= 1
        if _Holds.depth == 0:
            young, middle, _ = gc.get_threshold()
            gc.set_threshold(young, middle, _Holds.saved)
        gc.freeze()
