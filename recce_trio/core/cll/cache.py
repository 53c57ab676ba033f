"""A bounded, thread-safe cache of per-node analyses, keyed by content.

Keys hold the node's unique_id and a digest of everything the analysis reads (its SQL, the
dialect, its parents' column names), so an entry stays right across artifact reloads and a
changed node simply misses. Values are immutable. Any thread may fill it while others read:
every access takes a short lock; analyses run outside it (two threads that miss on the same key
both compute it and store equal values).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

DEFAULT_MAX_ENTRIES = 50_000


class CllCache:
    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self._lock = threading.Lock()
        self._data: OrderedDict[tuple[str, ...], Any] = OrderedDict()
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[str, ...]) -> Any:
        """The stored value, or None."""
        with self._lock:
            value = self._data.get(key)
            if value is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: tuple[str, ...], value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


class RecordingCache(CllCache):
    """A cache that also appends each stored ``(key, value)`` to ``outbox`` (the whole-project
    map's child process sends them to the server, which stores them in its own cache)."""

    def __init__(self, outbox: list[Any], max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        super().__init__(max_entries)
        self.outbox = outbox

    def put(self, key: tuple[str, ...], value: Any) -> None:
        super().put(key, value)
        self.outbox.append((key, value))
