"""Deploying with the Hypercorn CLI and the documented config file; settings from the env."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.conftest import REPO

URL = re.compile(r"Running on (http://\S+)")


def test_hypercorn_config_deployment_serves_and_stops_gracefully(project: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hypercorn",
            "--config",
            str(REPO / "docs" / "hypercorn.toml"),
            "--bind",
            "127.0.0.1:0",
            "recce_trio.asgi:app",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "RECCE_PROJECT_DIR": str(project), "RECCE_STARTUP_TIMEOUT": "60"},
    )
    lines: list[str] = []
    found = threading.Event()

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if URL.search(line):
                found.set()
        found.set()

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        assert found.wait(60), "".join(lines)
        match = next(m for m in map(URL.search, lines) if m)
        url = match.group(1)
        deadline = time.monotonic() + 60
        while not (health := httpx.get(f"{url}/api/health").json())["ready"]:
            assert health["error"] is None, health
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert httpx.get(f"{url}/api/flag").status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        thread.join(5)
        assert proc.stdout is not None
        proc.stdout.close()
    assert code == 0, "".join(lines)
