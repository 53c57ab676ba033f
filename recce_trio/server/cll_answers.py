"""Encoded ``/api/cll`` answers: compressed (``encode``), and kept for the
life of a review's column lineage (``AnswerCache``).

An answer is a pure function of the served artifacts (one ``CllProject``) and the request
(its params, ``Accept-Vocabulary`` and ``Accept-Encoding``) once the whole-project map is
built, so the compressed bytes are kept and sent again when the same question comes back (a
page going back to a node). Least recently used answers go first past ``BUDGET_BYTES``; a
new project (a reload) empties the cache. Used on the event loop's thread only.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from recce_trio.server.compress import (
    ENCODINGS,
    FAST_ENCODINGS,
    IDENTITY,
    MIN_SIZE,
    choose_encoding,
    compress,
)

# Compressed, a node's answer is 20 KB to 800 KB at 5,000 models (1-8 MB of JSON).
BUDGET_BYTES = 48 * 1024 * 1024
# An answer larger than this share of the budget is not kept (an identity answer of megabytes
# would push out dozens of others).
MAX_SHARE = 8

Answer = tuple[bytes, str]  # (body, content coding)
# An answer this large is compressed with the fast levels, zstd first when accepted (on
# 100-200 KB of /api/cll JSON zstd 1 takes a tenth of br 5's CPU, for about a third more
# bytes: a few KB): a node's answer is made per request. (``compress.FAST_SIZE``, for other
# dynamic bodies, is larger.)
FAST_SIZE = 64 * 1024


def encode(data: bytes, accept: str | None) -> Answer:
    """An answer's body, compressed as ``Accept-Encoding`` allows, and its content coding."""
    if len(data) < MIN_SIZE:
        return data, IDENTITY
    fast = len(data) >= FAST_SIZE
    encoding = choose_encoding(accept, FAST_ENCODINGS if fast else ENCODINGS)
    if encoding != IDENTITY:
        data = compress(data, encoding, fast=fast)
    return data, encoding


class AnswerCache:
    def __init__(self, budget: int = BUDGET_BYTES) -> None:
        self.budget = budget
        self.size = 0
        self._project: weakref.ref[Any] | None = None
        self._answers: OrderedDict[Hashable, Answer] = OrderedDict()

    def _for(self, project: Any) -> None:
        if self._project is None or self._project() is not project:
            self._answers.clear()
            self.size = 0
            self._project = weakref.ref(project)

    def get(self, project: Any, key: Hashable) -> Answer | None:
        self._for(project)
        found = self._answers.get(key)
        if found is not None:
            self._answers.move_to_end(key)
        return found

    def put(self, project: Any, key: Hashable, answer: Answer) -> None:
        self._for(project)
        size = len(answer[0])
        if size > self.budget // MAX_SHARE or key in self._answers:
            return
        self._answers[key] = answer
        self.size += size
        while self.size > self.budget:
            _, (body, _) = self._answers.popitem(last=False)
            self.size -= len(body)

    def __len__(self) -> int:
        return len(self._answers)
