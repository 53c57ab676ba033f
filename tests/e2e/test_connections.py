"""HTTP/1.1 connections against a real Hypercorn, with a raw socket client: keep-alive after
an error answer, ``Connection: close`` and HTTP/1.0 (issue 12, items 3 and 9)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import pytest
import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from recce_trio.config import ServerConfig
from recce_trio.server.app import create_app

# Each exchange must end within this; a hang is what these tests are about.
ANSWER_TIMEOUT_S = 5.0
TRIES = 50


@pytest.fixture
async def address(project: Path, nursery: trio.Nursery) -> AsyncIterator[tuple[str, int]]:
    config = Config.from_mapping(
        bind=["127.0.0.1:0"], accesslog=None, errorlog=None, graceful_timeout=1
    )
    stop = trio.Event()
    app = create_app(ServerConfig(project_dir=project, loader="thread"))
    binds = await nursery.start(partial(serve, app, config, shutdown_trigger=stop.wait))
    host, port = binds[0].removeprefix("http://").rsplit(":", 1)
    async with await trio.open_tcp_stream(host, int(port)) as stream:
        # Wait for readiness, so the gate plays no part in what follows.
        await stream.send_all(b"GET /api/flag HTTP/1.1\r\nHost: t\r\n\r\n")
        with trio.fail_after(30):
            assert (await read_response(stream))[0] == 200
    yield host, int(port)
    stop.set()


async def read_response(stream: trio.SocketStream) -> tuple[int, bytes, bytes]:
    """One response: (status, head, body); status 0 if the server closed the connection."""
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        chunk = await stream.receive_some(65536)
        if not chunk:
            return 0, buffer, b""
        buffer += chunk
    head, _, body = buffer.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = await stream.receive_some(65536)
        if not chunk:
            break
        body += chunk
    return int(head.split(b" ")[1]), head, body


def post_head(path: str, length: int) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


HEALTH = b"GET /api/health HTTP/1.1\r\nHost: t\r\n\r\n"


@contextmanager
def cpu_load() -> Iterator[None]:
    """A thread that spins, competing with the server's event loop for the interpreter."""
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            sum(range(1000))

    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


async def test_a_404_answered_before_its_body_arrives_keeps_the_connection(
    address: tuple[str, int],
) -> None:
    body = b'{"a": "' + b"x" * 2000 + b'"}'
    async with await trio.open_tcp_stream(*address) as stream:
        await stream.send_all(post_head("/api/not-a-route", len(body)))
        # The handler answers without reading the body; let it get there first.
        await trio.sleep(0.2)
        await stream.send_all(body)
        with trio.fail_after(ANSWER_TIMEOUT_S):
            status, _, answer = await read_response(stream)
        assert (status, answer) == (404, b'{"detail":"Not Found"}')
        await stream.send_all(HEALTH)
        with trio.fail_after(ANSWER_TIMEOUT_S):
            status, _, _ = await read_response(stream)
        assert status == 200  # the same connection serves the next request


async def test_keep_alive_after_json_404s_never_hangs_under_load(
    address: tuple[str, int],
) -> None:
    body = b'{"name": "' + b"y" * 5000 + b'"}'
    statuses = []
    with cpu_load():
        for i in range(TRIES):
            async with await trio.open_tcp_stream(*address) as stream:
                await stream.send_all(post_head("/api/runs/nope", len(body)))
                # The body follows the head after 0 to 4 ms: sometimes before the handler
                # answers, sometimes after, as a slow client's or a loaded machine's would.
                await trio.sleep((i % 5) / 1000)
                await stream.send_all(body)
                with trio.fail_after(ANSWER_TIMEOUT_S):
                    first = (await read_response(stream))[0]
                await stream.send_all(HEALTH)
                with trio.fail_after(ANSWER_TIMEOUT_S):
                    second = (await read_response(stream))[0]
                statuses.append((first, second))
    assert statuses == [(404, 200)] * TRIES


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /api/health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        b"GET /api/health HTTP/1.0\r\n\r\n",
        b"GET /api/not-a-route HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    ],
    ids=["connection-close", "http-1.0", "close-after-404"],
)
async def test_server_closes_a_connection_the_client_asked_to_close(
    address: tuple[str, int], request_bytes: bytes
) -> None:
    async with await trio.open_tcp_stream(*address) as stream:
        await stream.send_all(request_bytes)
        with trio.fail_after(ANSWER_TIMEOUT_S):
            status, _, _ = await read_response(stream)
            assert status in (200, 404)
            # Then the end of the stream, not a connection left open until a timeout.
            assert await stream.receive_some(1024) == b""


async def test_an_oversized_body_is_413_and_the_connection_ends(
    address: tuple[str, int],
) -> None:
    announced = 9 * 1024 * 1024  # over the 8 MiB limit of JSON bodies
    async with await trio.open_tcp_stream(*address) as stream:
        await stream.send_all(post_head("/api/checks", announced) + b'{"name": "')
        with trio.fail_after(ANSWER_TIMEOUT_S):
            status, head, body = await read_response(stream)
            assert (status, body) == (
                413,
                b'{"detail":"Request body too large: at most 8 MiB is accepted here."}',
            )
            # The rest of the body will not be read: the server closes the connection.
            while await stream.receive_some(65536):
                pass
