"""Content negotiation, compression and validators (ETag/304) for the server's responses.

- ``choose_encoding`` reads ``Accept-Encoding`` (q-values, ``*``, ``identity;q=0``) and picks
  br, zstd or gzip, or identity when nothing else is acceptable.
- ``Representation`` is a body that is compressed once per encoding (in a worker thread when
  it is over ``INLINE_LIMIT``), and kept: the ``/api/info`` body (compressed when the review
  is built; a request that comes first gets the fast level meanwhile) and static files.
- ``compress_json`` compresses the other JSON answers of 1 KB or more as they go out; one of
  ``FAST_SIZE`` or more (a column-lineage answer: megabytes, made per request) with the fast
  levels and zstd first (see ``FAST_ENCODINGS``).

The compressors (zlib, brotli, zstandard) release the GIL while they work, so a worker thread
compressing megabytes does not hold up the event loop.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections.abc import AsyncIterator, Callable
from functools import partial

import brotli
import trio
import zstandard
from quart import Response, request

from recce_trio.server import gateway

# Server preference when the client accepts several equally: smallest first.
ENCODINGS = ("br", "zstd", "gzip")
IDENTITY = "identity"
MIN_SIZE = 1024
# Bodies up to this size are compressed on the event loop (well under a millisecond);
# larger ones in a worker thread.
INLINE_LIMIT = 64 * 1024
STREAM_CHUNK = 256 * 1024
COMPRESSIBLE = frozenset(
    {
        "application/json",
        "application/javascript",
        "text/javascript",
        "text/css",
        "text/html",
        "text/plain",
        "text/markdown",
        "image/svg+xml",
        "application/manifest+json",
        "application/xml",
        "text/xml",
    }
)

# Levels chosen for a one-off compression of a few megabytes in well under a second
# (``bench/startup.py`` prints the wire sizes): br 5 and zstd 6 beat gzip 6 on size.
ZSTD_LEVEL = 6
# A dynamic body this large is compressed per request (a node's column lineage: 1-8 MB of
# JSON at 5,000 models), with the fast levels: on 7.9 MB of /api/cll JSON, zstd 1 takes
# ~13 ms (743 KB; decoded in ~5 ms) where br 5 takes ~90 ms (537 KB), zstd 6 ~63 ms, gzip 6
# ~120 ms. The answer is smaller for the slow levels, but not by enough to pay for them
# even on a slow link.
FAST_SIZE = 256 * 1024
# For those, zstd is preferred on a tie: the fastest both to make and to decode.
FAST_ENCODINGS = ("zstd", "br", "gzip")
# A ZstdCompressor may not be used by two threads at once: one per thread and level.
_zstd = threading.local()


def _zstd_compressor(level: int) -> zstandard.ZstdCompressor:
    found: zstandard.ZstdCompressor | None = getattr(_zstd, f"level{level}", None)
    if found is None:
        found = zstandard.ZstdCompressor(level=level)
        setattr(_zstd, f"level{level}", found)
    return found


def compress(data: bytes, encoding: str, *, fast: bool = False) -> bytes:
    """``data`` in ``encoding``; ``fast``: the levels for a large body made per request
    (zstd 1, br 1, gzip 1) instead of the ones for a body compressed once and kept."""
    if encoding == "br":
        out: bytes = brotli.compress(data, quality=1 if fast else 5)
        return out
    if encoding == "zstd":
        return _zstd_compressor(1 if fast else ZSTD_LEVEL).compress(data)
    if encoding == "gzip":
        return gzip.compress(data, compresslevel=1 if fast else 6, mtime=0)
    raise ValueError(f"unknown content coding {encoding!r}")


def choose_for_size(header: str | None, size: int) -> str:
    """The content coding for a dynamic body of ``size`` bytes (identity below MIN_SIZE)."""
    if size < MIN_SIZE:
        return IDENTITY
    return choose_encoding(header, FAST_ENCODINGS if size >= FAST_SIZE else ENCODINGS)


def parse_accept_encoding(header: str | None) -> dict[str, float]:
    """``{coding: q}`` from an ``Accept-Encoding`` header; malformed q-values count as 0."""
    accepted: dict[str, float] = {}
    if not header:
        return accepted
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        accepted[name] = q
    return accepted


def choose_encoding(header: str | None, available: tuple[str, ...] = ENCODINGS) -> str:
    """The content coding to send: the acceptable one with the highest q-value, smallest
    first on a tie, compression before identity on a tie; identity when no header was sent
    or nothing else is acceptable (RFC 9110 §12.5.3)."""
    accepted = parse_accept_encoding(header)
    if not accepted:
        return IDENTITY
    star = accepted.get("*")
    best, best_q = IDENTITY, 0.0
    for coding in available:
        q = accepted.get(coding, star if star is not None else 0.0)
        if q > best_q:
            best, best_q = coding, q
    # An identity the client did not name is the fallback, not a preference.
    identity_q = accepted.get(IDENTITY, star if star is not None else 0.0)
    if best_q > 0 and best_q >= identity_q:
        return best
    return IDENTITY


def entity_tag(data: bytes | bytearray) -> str:
    # SHA-256 (hardware-assisted): ~2 ms for 3 MB, where BLAKE2b takes ~10.
    return hashlib.sha256(data).hexdigest()[:24]


def matching_etag(header: str | None, tag: str) -> str | None:
    """The entity tag (quoted) in ``If-None-Match`` that names a representation of the body
    tagged ``tag`` (weak comparison, as RFC 9110 asks for If-None-Match), or None. ``*``
    matches and comes back as ``*``."""
    if not header:
        return None
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*":
            return candidate
        inner = candidate.removeprefix("W/").strip('"')
        if inner.partition("-")[0] == tag:
            return f'"{inner}"'
    return None


def etag_matches(header: str | None, tag: str) -> bool:
    """Whether ``If-None-Match`` names any representation of the body tagged ``tag``."""
    return matching_etag(header, tag) is not None


class Representation:
    """One body in every content coding, each compressed once (in a worker thread, if larger
    than ``INLINE_LIMIT``) and kept.

    ``prepare`` compresses the codings one after the other, in one worker thread (the other
    is left to requests); a request that needs a coding not ready yet waits for it (or starts
    it). A ``quick_first`` body of ``FAST_SIZE`` or more (``/api/info``, the moment the server
    is ready, with a page waiting for it) is sent at the fast level (~10 ms for 3 MB, about
    half again as large) until ``prepare`` has made the kept one: each level has its own
    ETag, and both validate.
    """

    def __init__(
        self, data: bytes | bytearray, *, media_type: str, quick_first: bool = False
    ) -> None:
        self.identity = bytes(data)
        self.media_type = media_type
        self.tag = entity_tag(self.identity)
        self.compressible = len(self.identity) >= MIN_SIZE
        self.quick_first = quick_first and len(self.identity) >= FAST_SIZE
        # (coding, fast level) -> the body; and the compressions in progress.
        self._bodies: dict[tuple[str, bool], bytes] = {}
        self._done: dict[tuple[str, bool], trio.Event] = {}

    def etag(self, encoding: str, *, fast: bool = False) -> str:
        if encoding == IDENTITY:
            return f'"{self.tag}"'
        return f'"{self.tag}-{encoding}{"-fast" if fast else ""}"'

    def ready(self, encoding: str) -> bool:
        """Whether ``encoding`` at the kept level is made."""
        return encoding == IDENTITY or (encoding, False) in self._bodies

    async def prepare(self, encodings: tuple[str, ...] = ENCODINGS) -> None:
        for encoding in encodings:
            await self.encoded(encoding)

    async def encoded(self, encoding: str) -> bytes:
        """The body in ``encoding`` at the kept level."""
        if encoding == IDENTITY:
            return self.identity
        return await self._compressed(encoding, fast=False)

    async def to_send(self, encoding: str) -> tuple[bytes, bool]:
        """The body to send now in ``encoding``, and whether it is at the fast level."""
        if encoding == IDENTITY or not self.quick_first or self.ready(encoding):
            return await self.encoded(encoding), False
        return await self._compressed(encoding, fast=True), True

    async def _compressed(self, encoding: str, *, fast: bool) -> bytes:
        key = (encoding, fast)
        while True:
            found = self._bodies.get(key)
            if found is not None:
                return found
            done = self._done.get(key)
            if done is None:
                break
            await done.wait()  # another task is compressing it (if it failed: try again)
        if len(self.identity) <= INLINE_LIMIT:  # a static file of the page, say: ~1 ms
            body = self._bodies[key] = compress(self.identity, encoding, fast=fast)
            return body
        done = self._done[key] = trio.Event()
        try:
            body = await gateway.run(
                gateway.ENCODING, partial(compress, self.identity, encoding, fast=fast)
            )
            self._bodies[key] = body
        finally:
            del self._done[key]
            done.set()
        return body

    def sizes(self) -> dict[str, int]:
        kept = {k: len(v) for (k, fast), v in self._bodies.items() if not fast}
        return {IDENTITY: len(self.identity), **kept}

    async def respond(
        self,
        *,
        cache_control: Callable[[Response], None] | None = None,
        sent: Callable[[], None] | None = None,
    ) -> Response:
        """The response to the current request: 304 when its ``If-None-Match`` names this
        body (with the tag it named), else the body in the best coding the client accepts,
        with ``ETag`` and ``Vary: Accept-Encoding``. Large bodies are streamed in chunks.
        ``sent`` is called once the whole body has been handed to the server to write (at
        once for a 304)."""
        encoding = IDENTITY
        if self.compressible:
            encoding = choose_encoding(request.headers.get("Accept-Encoding"))
        matched = matching_etag(request.headers.get("If-None-Match"), self.tag)
        if matched is not None:
            response = Response(b"", 304)
            etag = self.etag(encoding) if matched == "*" else matched
            if sent is not None:
                sent()
        else:
            body, fast = await self.to_send(encoding)
            response = Response(_stream(body, sent), 200, mimetype=self.media_type)
            response.content_length = len(body)
            if encoding != IDENTITY:
                response.headers["Content-Encoding"] = encoding
            etag = self.etag(encoding, fast=fast)
        response.headers["ETag"] = etag
        if self.compressible:
            response.vary.add("Accept-Encoding")
        if cache_control is not None:
            cache_control(response)
        return response


def _stream(body: bytes, sent: Callable[[], None] | None) -> AsyncIterator[bytes] | bytes:
    if len(body) <= STREAM_CHUNK and sent is None:
        return body

    async def chunks() -> AsyncIterator[bytes]:
        view = memoryview(body)
        for start in range(0, len(view), STREAM_CHUNK):
            yield bytes(view[start : start + STREAM_CHUNK])
            await trio.lowlevel.checkpoint()
        if sent is not None:
            sent()  # the last chunk has been written (or buffered): asked for the next

    return chunks()


async def compress_json(response: Response) -> Response:
    """``after_request``: compress a complete (not streamed) compressible body of 1 KB or
    more in the coding the client prefers. Bodies already coded are left alone."""
    if response.status_code < 200 or response.status_code in (204, 304):
        return response
    if response.mimetype not in COMPRESSIBLE or "Content-Encoding" in response.headers:
        return response
    if not isinstance(response.response, Response.data_body_class):
        return response  # streamed or a file: those handlers negotiate themselves
    data = await response.get_data(as_text=False)
    if len(data) < MIN_SIZE:
        return response
    response.vary.add("Accept-Encoding")
    encoding = choose_for_size(request.headers.get("Accept-Encoding"), len(data))
    if encoding == IDENTITY:
        return response
    if len(data) <= INLINE_LIMIT:
        body = compress(data, encoding)
    else:
        fast = len(data) >= FAST_SIZE
        body = await gateway.run(gateway.ENCODING, lambda: compress(data, encoding, fast=fast))
    response.set_data(body)
    response.headers["Content-Encoding"] = encoding
    return response
