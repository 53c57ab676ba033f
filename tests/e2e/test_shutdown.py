"""SIGTERM under a real server: responses still being sent are finished, and a save that fails
at shutdown is an error exit, not a silent loss."""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path

import httpx

from tests.artifact_json import write_project
from tests.e2e.test_cli import Server, wait_ready


def ui_with_a_big_file(tmp_path: Path) -> Path:
    """A UI folder (--ui-dir) with a 12 MB file: more than the socket buffers hold, and sent
    in chunks as the large /api/info is."""
    ui = tmp_path / "ui"
    ui.mkdir()
    (ui / "index.html").write_text("<!doctype html><title>ui</title>")
    (ui / "big.js").write_bytes(b"//" + b"x" * 12_000_000 + b"\n")
    return ui


def read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def test_sigterm_lets_a_slow_reader_finish_a_large_response(tmp_path: Path) -> None:
    project = write_project(tmp_path)
    ui = ui_with_a_big_file(tmp_path)
    # A graceful timeout long enough for a slow reader on a loaded machine; the bug this
    # guards against cut the response 0.2 s after SIGTERM, whatever the timeout.
    toml = tmp_path / "hypercorn.toml"
    toml.write_text("graceful_timeout = 60\n")
    server = Server(
        ["server", "--port", "0", "--project-dir", str(project), "--ui-dir", str(ui),
         "--hypercorn-config", str(toml)]
    )  # fmt: skip
    assert wait_ready(server.url)["ready"] is True
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        sock.connect((host, int(port)))
        # A keep-alive request: once answered, the connection is idle and may be closed.
        sock.sendall(f"GET /big.js HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        head, body = read_head(sock)
        assert head.startswith(b"HTTP/1.1 200")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        assert length == 12_000_003
        while len(body) < 256 * 1024:
            body += sock.recv(16384)
        server.proc.send_signal(signal.SIGTERM)
        # Read on slowly (at most ~8 MB/s): the rest takes a second or more.
        while len(body) < length:
            chunk = sock.recv(16384)
            if not chunk:
                break
            body += chunk
            time.sleep(0.002)
    assert len(body) == length
    assert body.endswith(b"x\n")
    assert server.proc.wait(timeout=30) == 0
    server.stop()


def test_a_failed_final_save_exits_1_after_health_showed_it(project: Path) -> None:
    state_file = project / "recce_state.json"
    server = Server(["server", str(state_file), "--port", "0", "--project-dir", str(project)])
    assert wait_ready(server.url)["ready"] is True
    with httpx.Client(base_url=server.url) as client:
        client.post("/api/checks", json={"name": "kept", "type": "simple"})
        deadline = time.monotonic() + 20
        while not state_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        state_file.chmod(0o444)
        client.post("/api/checks", json={"name": "lost", "type": "simple"})
        while client.get("/api/health").json()["save_error"] is None:
            assert time.monotonic() < deadline, "the failed save never showed in health"
            time.sleep(0.05)
    assert server.stop() == 1
    assert "could not be saved to the state file at shutdown" in server.output
    assert [c["name"] for c in json.loads(state_file.read_bytes())["checks"]] == ["kept"]
