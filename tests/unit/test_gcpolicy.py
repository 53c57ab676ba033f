"""Full collections held back while big structures arrive, and put back after: a threshold
left off would let a long-running server's cyclic garbage grow without bound."""

from __future__ import annotations

import gc

from recce_trio.server.gcpolicy import FULL_COLLECTIONS_OFF, full_collections_held


def test_overlapping_holds_put_back_the_threshold_only_when_the_last_ends() -> None:
    before = gc.get_threshold()
    try:
        outer = full_collections_held()
        inner = full_collections_held()
        outer.__enter__()
        assert gc.get_threshold()[2] == FULL_COLLECTIONS_OFF
        inner.__enter__()
        outer.__exit__(None, None, None)  # the map ends while the warehouse still connects
        assert gc.get_threshold()[2] == FULL_COLLECTIONS_OFF
        inner.__exit__(None, None, None)
        assert gc.get_threshold() == before
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def test_what_arrived_during_a_hold_is_frozen_and_an_error_still_ends_it() -> None:
    before = gc.get_threshold()
    kept: list[list[list[int]]] = []
    gc.unfreeze()  # nothing frozen before: what is frozen after, the hold froze
    try:
        try:
            with full_collections_held():
                kept.append([[] for _ in range(1000)])
                raise RuntimeError("the connect failed")
        except RuntimeError:
            pass
        assert gc.get_threshold() == before
        assert gc.get_freeze_count() >= 1000
        assert not any(obj is kept[0] for obj in gc.get_objects())  # out of every collection
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
