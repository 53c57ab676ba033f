"""Deploying with the Hypercorn CLI and the documented config file; settings from the env,
read and checked as `recce-trio server` does."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.artifact_json import write_project
from tests.conftest import REPO

URL = re.compile(r"Running on (http://\S+)")


def hypercorn(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
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
        env={**os.environ, "RECCE_STARTUP_TIMEOUT": "60", **env},
    )


@contextmanager
def serving(env: dict[str, str]) -> Iterator[str]:
    """The URL of a Hypercorn CLI serving the app; stopped with SIGTERM, which must exit 0."""
    proc = hypercorn(env)
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
        match = next((m for m in map(URL.search, lines) if m), None)
        assert match is not None, "".join(lines)
        yield match.group(1)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        thread.join(5)
        assert proc.stdout is not None
        proc.stdout.close()
    assert code == 0, "".join(lines)


def wait_ready(url: str) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while not (health := httpx.get(f"{url}/api/health").json())["ready"]:
        assert health["error"] is None, health
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return health


def test_hypercorn_config_deployment_serves_and_stops_gracefully(project: Path) -> None:
    with serving({"RECCE_PROJECT_DIR": str(project)}) as url:
        wait_ready(url)
        assert httpx.get(f"{url}/api/flag").status_code == 200


def test_the_asgi_app_takes_recce_project_dir_over_dbt_project_dir(tmp_path: Path) -> None:
    # The same precedence as `recce-trio server` (tests/e2e/test_cli_settings.py).
    two_envs = write_project(tmp_path / "a")
    one_env = write_project(tmp_path / "b", with_base=False)
    env = {"RECCE_PROJECT_DIR": str(two_envs), "DBT_PROJECT_DIR": str(one_env)}
    with serving(env) as url:
        assert wait_ready(url)["single_env"] is False


def test_a_bad_setting_stops_the_worker_before_it_serves(project: Path) -> None:
    proc = hypercorn({"RECCE_PROJECT_DIR": str(project), "RECCE_UI_DIR": "/nonexistent/ui"})
    output, _ = proc.communicate(timeout=60)
    assert "Error: RECCE_UI_DIR: '/nonexistent/ui' does not exist" in output
    assert "Running on" not in output
    assert "Traceback" not in output
