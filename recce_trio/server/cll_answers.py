"""Encoded ``/api/cll`` answers, kept for the life of a review's column lineage.

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

# Compressed, a node's answer is 20 KB to 800 KB at 5,000 models (1-8 MB of JSON).
BUDGET_BYTES = 48 * 1024 * 1024
# An answer larger than this share of the budget is not kept (an identity answer of megabytes
# would push out dozens of others).
MAX_SHARE = 8

Answer = tuple[bytes, str]  # (body, content coding)


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
