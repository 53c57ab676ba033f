"""The `recce-trio` command as a subprocess: URL printed, graceful SIGTERM, clear refusals."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.held import HeldFile

URL = re.compile(r"serving on (http://\S+)")


RECCE_TRIO = [sys.executable, "-m", "recce_trio"]


class Server:
    def __init__(
        self, args: list[str], env: dict[str, str] | None = None, *, command: list[str] = RECCE_TRIO
    ) -> None:
        self.proc = subprocess.Popen(
            [*command, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.lines: list[str] = []
        self.url = ""
        found = threading.Event()

        def reader() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.lines.append(line)
                match = URL.search(line)
                if match and not self.url:
                    self.url = match.group(1)
                    found.set()
            found.set()

        self.thread = threading.Thread(target=reader, daemon=True)
        self.thread.start()
        found.wait(30)
        assert self.url, "".join(self.lines)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=30)
        self.thread.join(5)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        return code

    @property
    def output(self) -> str:
        return "".join(self.lines)


@pytest.fixture
def served(project: Path) -> Iterator[Server]:
    server = Server(["server", "--port", "0", "--project-dir", str(project)])
    yield server
    if server.proc.poll() is None:
        server.stop()


def wait_ready(url: str) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        health = httpx.get(f"{url}/api/health").json()
        if health["ready"] or health["error"]:
            return health
        time.sleep(0.05)
    raise AssertionError("server never became ready")


def test_serves_on_loopback_and_exits_0_on_sigterm(served: Server) -> None:
    assert served.url.startswith("http://127.0.0.1:")
    health = wait_ready(served.url)
    assert health["ready"] is True
    assert httpx.get(f"{served.url}/api/flag").status_code == 200
    assert served.stop() == 0
    assert "ready in" in served.output


def test_sigint_is_graceful_too(served: Server) -> None:
    wait_ready(served.url)
    served.proc.send_signal(signal.SIGINT)
    assert served.proc.wait(timeout=30) == 0
    served.thread.join(5)
    assert served.proc.stdout is not None
    served.proc.stdout.close()


def test_sigterm_answers_a_request_held_at_the_gate(project: Path) -> None:
    with HeldFile(project / "target" / "manifest.json"):  # the load cannot finish
        server = Server(["server", "--port", "0", "--project-dir", str(project)])
        host, port = server.url.removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port))) as held:
            held.sendall(b"GET /api/flag HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            # Answered on a later connection: the server has accepted the held one by now (no
            # sleep, which a loaded machine can outrun).
            assert httpx.get(f"{server.url}/api/health").json()["ready"] is False
            assert server.stop() == 0
            reply = b""
            while chunk := held.recv(65536):
                reply += chunk
    assert reply.startswith(b"HTTP/1.1 503")
    assert json.loads(reply.partition(b"\r\n\r\n")[2]) == {"error": "Server is shutting down."}


def test_failed_start_keeps_serving_health_with_the_error(project: Path) -> None:
    (project / "target" / "manifest.json").write_text('{"metadata": ')
    server = Server(["server", "--port", "0", "--project-dir", str(project)])
    health = wait_ready(server.url)
    assert health == {**health, "ready": False, "error": "ArtifactDecodeError"}
    assert httpx.get(f"{server.url}/api/flag").status_code == 503
    assert server.stop() == 0
    assert "startup failed" in server.output
    assert str(project / "target" / "manifest.json") in server.output


def test_progress_is_shown_while_loading(served: Server) -> None:
    wait_ready(served.url)
    served.stop()
    assert re.search(r"loading: curr_manifest \S+", served.output)
    assert "curr_manifest ✓" in served.output


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "recce_trio", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_bad_option_exits_2_with_message() -> None:
    result = run_cli("server", "--port", "70000")
    assert result.returncode == 2
    assert "70000" in result.stderr


def test_bad_startup_timeout_env_exits_2() -> None:
    result = run_cli("server", env={"RECCE_STARTUP_TIMEOUT": "soon"})
    assert result.returncode == 2
    assert "soon" in result.stderr


def test_review_without_state_file_exits_1(tmp_path: Path) -> None:
    result = run_cli("server", "--review", str(tmp_path / "missing.json"))
    assert result.returncode == 1
    assert "state file" in result.stderr
    assert "missing.json" in result.stderr


def test_port_in_use_exits_1_with_hint(served: Server) -> None:
    port = served.url.rsplit(":", 1)[1]
    result = run_cli("server", "--port", port)
    assert result.returncode == 1
    assert "already in use" in result.stderr


def test_hypercorn_config_typo_is_refused(tmp_path: Path) -> None:
    toml = tmp_path / "hypercorn.toml"
    toml.write_text("graceful_timout = 5\n")
    result = run_cli("server", "--hypercorn-config", str(toml))
    assert result.returncode == 2
    assert "graceful_timeout" in result.stderr


def test_hypercorn_config_bind_is_used_unless_flags_given(project: Path, tmp_path: Path) -> None:
    toml = tmp_path / "hypercorn.toml"
    toml.write_text('bind = ["127.0.0.1:0"]\n')
    server = Server(["server", "--project-dir", str(project), "--hypercorn-config", str(toml)])
    assert not server.url.endswith(":8000")
    assert server.stop() == 0


def test_help_names_the_defaults() -> None:
    result = run_cli("server", "--help")
    assert result.returncode == 0
    assert "127.0.0.1" in result.stdout
    assert "8000" in result.stdout
    assert "RECCE_STARTUP_TIMEOUT" in result.stdout


def test_version() -> None:
    from recce_trio import __version__

    result = run_cli("version")
    assert result.stdout.strip() == __version__


def test_invalid_recce_yml_exits_1_before_binding(project: Path) -> None:
    (project / "recce.yml").write_text("checks:\n  - name: no type here\n    params: {}\n")
    result = run_cli("server", "--project-dir", str(project), "--port", "0")
    assert result.returncode == 1
    assert "recce.yml" in result.stderr
    assert "serving on" not in result.stderr


def test_sigterm_saves_the_state_file(project: Path) -> None:
    state_file = project / "recce_state.json"
    server = Server(["server", str(state_file), "--port", "0", "--project-dir", str(project)])
    wait_ready(server.url)
    # A run is not saved when it is made (as in Recce): only the shutdown save writes it.
    run = httpx.post(f"{server.url}/api/runs", json={"type": "lineage_diff", "params": {}})
    assert run.status_code == 201
    assert not state_file.exists()
    assert server.stop() == 0
    saved = json.loads(state_file.read_text())
    assert [r["run_id"] for r in saved["runs"]] == [run.json()["run_id"]]
    assert saved["artifacts"]["current"]["manifest"]["metadata"]["project_name"] == "shop"


def test_review_of_a_read_only_state_file_leaves_it_untouched(tmp_path: Path) -> None:
    from tests.conftest import STATE_CORPUS

    source = STATE_CORPUS / "doriwilson__recce-super-demo" / "recce_state.json"
    if not source.is_file():
        pytest.skip(f"Recce state corpus not found at {STATE_CORPUS}")
    state_file = tmp_path / "recce_state.json"
    state_file.write_bytes(source.read_bytes())
    state_file.chmod(0o444)
    server = Server(["server", "--review", str(state_file), "--port", "0"])
    assert wait_ready(server.url)["ready"] is True
    assert server.stop() == 0
    assert state_file.read_bytes() == source.read_bytes()
    assert "read-only" in server.output


def test_sigterm_lets_a_request_in_flight_finish(served: Server) -> None:
    wait_ready(served.url)
    host, port = served.url.removeprefix("http://").rsplit(":", 1)
    body = b'{"select": "state:modified"}'
    with socket.create_connection((host, int(port))) as sock:
        head = (
            f"POST /api/select HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        sock.sendall(head.encode() + body[:10])  # the request is in flight: half its body sent
        time.sleep(0.3)
        served.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        sock.sendall(body[10:])
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200")
    assert b'"nodes":["model.shop.orders"]' in reply
    assert served.proc.wait(timeout=30) == 0
    served.thread.join(5)
    assert served.proc.stdout is not None
    served.proc.stdout.close()


def test_open_page_connections_do_not_hold_up_shutdown(served: Server) -> None:
    wait_ready(served.url)
    host, port = served.url.removeprefix("http://").rsplit(":", 1)
    with httpx.Client() as client, socket.create_connection((host, int(port))) as ws:
        assert client.get(f"{served.url}/api/flag").status_code == 200  # now an idle keep-alive
        ws.sendall(
            b"GET /api/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        assert ws.recv(1024).startswith(b"HTTP/1.1 101")
        served.proc.send_signal(signal.SIGTERM)
        # Well within the 10 s graceful timeout, which is for requests, not idle connections.
        assert served.proc.wait(timeout=5) == 0
    served.thread.join(5)
    assert served.proc.stdout is not None
    served.proc.stdout.close()


def test_the_web_stack_is_imported_without_collections_and_the_collector_runs_after() -> None:
    # In a fresh interpreter, as `recce-trio server` imports it: no collection during the
    # imports (they cost ~90 ms of CPU before the port opened), the collector on afterwards
    # (or cyclic garbage would pile up for the server's lifetime), the imports frozen.
    code = (
        "import gc, json\n"
        "from recce_trio.cli import import_web_stack\n"
        "before = sum(s['collections'] for s in gc.get_stats())\n"
        "import_web_stack()\n"
        "during = sum(s['collections'] for s in gc.get_stats()) - before\n"
        "print(json.dumps([during, gc.isenabled(), gc.get_freeze_count()]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    during, enabled, frozen = json.loads(out.stdout)
    assert during == 0
    assert enabled is True
    assert frozen > 10_000
