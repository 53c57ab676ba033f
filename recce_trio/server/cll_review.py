"""Change analysis during the review build, when it is cheap (few modified nodes).

Shared by the startup load, the file watcher's reload and ``cll_work`` (which analyses the
reviews left out here after ready).
"""

from __future__ import annotations

import weakref
from typing import Any

from recce_trio.core.review import Review

# Up to this many modified nodes, the change analysis is part of the review build (a few
# milliseconds each, before ready); above it, it runs after ready (see _with_change_analysis).
INLINE_CHANGE_ANALYSIS_MAX = 40
# Reviews whose modified nodes carry their change analysis already (by identity: a Review
# compares by value and is not hashable).
_ANALYSED: dict[int, weakref.ref[Any]] = {}


def mark_analysed(review: Any) -> None:
    for key in [k for k, ref in _ANALYSED.items() if ref() is None]:
        _ANALYSED.pop(key, None)
    _ANALYSED[id(review)] = weakref.ref(review)


def is_analysed(review: Any) -> bool:
    ref = _ANALYSED.get(id(review))
    return ref is not None and ref() is review


def analyse_if_small(review: Review) -> Review:
    """In a worker thread, while the review is built: the review with its change analysis when
    the project has few modified nodes, else the review as it is (analysed after ready)."""
    from recce_trio.core.review_changes import with_change_analysis

    modified = sum(1 for e in review.diff.diff.values() if e.get("change_status") == "modified")
    if modified > INLINE_CHANGE_ANALYSIS_MAX:
        return review  # and review.cll stays unmade: it imports sqlglot
    analysed = with_change_analysis(review)
    mark_analysed(analysed)
    return analysed
