"""Encoded ``/api/cll`` answers, kept for the life of a review's column lineage.

An answer is a pure function of the served artifacts (one ``CllProject``) and the request
(its params, ``Accept-Vocabulary`` and ``Accept-Encoding``) once the whole-project map is
built, so the compressed bytes are kept and sent again when the same question comes back (a
page going back to a node). Least recently used answers go first past ``BUDGET_BYTES``; a
new project (a reload) empties the cache. Used on the event loop's thread only.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import Any

import zstandard

from recce_trio.server.compress import FAST_SIZE, IDENTITY, choose_for_size, compress

# Compressed, a node's answer is 20 KB to 800 KB at 5,000 models (1-8 MB of JSON).
BUDGET_BYTES = 48 * 1024 * 1024
# An answer larger than this share of the budget is not kept (an identity answer of megabytes
# would push out dozens of others).
MAX_SHARE = 8

Answer = tuple[bytes, str]  # (body, content coding)
# zstd compresses a large answer on two threads of its own, in jobs of this size, while the
# request's thread joins the next section (``encode``).
ZSTD_THREADS = 2
ZSTD_JOB_SIZE = 512 * 1024  # zstd's smallest job
_zstd = threading.local()  # a compressor may not be used by two threads at once


def encode(chunks: Iterator[bytes], accept: str | None) -> Answer:
    """An answer's body, compressed as ``Accept-Encoding`` allows (``compress.choose_for_size``
    on its whole size, as any dynamic body), and its content coding. ``chunks`` is the JSON
    in a few sections (``core.cll.wire.cll_json_chunks``), each made when the one before has
    been taken. A large answer sent as zstd is compressed as it comes: zstd's own threads
    compress a section while this thread joins the next (the same bytes once decoded; one
    frame, without its content size in the header)."""
    head: list[bytes] = []
    size = 0
    for chunk in chunks:
        head.append(chunk)
        size += len(chunk)
        if size >= FAST_SIZE:
            break  # from here on the coding no longer depends on the size
    encoding = choose_for_size(accept, size)
    if encoding == "zstd" and size >= FAST_SIZE:
        stream = _zstd_stream().compressobj()
        out = [stream.compress(chunk) for chunk in head]
        out.extend(stream.compress(chunk) for chunk in chunks)
        out.append(stream.flush())
        return b"".join(out), encoding
    data = b"".join((*head, *chunks))
    if encoding != IDENTITY:
        data = compress(data, encoding, fast=len(data) >= FAST_SIZE)
    return data, encoding


def _zstd_stream() -> zstandard.ZstdCompressor:
    found: zstandard.ZstdCompressor | None = getattr(_zstd, "compressor", None)
    if found is None:
        params = zstandard.ZstdCompressionParameters.from_level(
            1, threads=ZSTD_THREADS, job_size=ZSTD_JOB_SIZE
        )
        found = _zstd.compressor = zstandard.ZstdCompressor(compression_params=params)
    return found


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
