"""Artifacts that are not regular files are refused by name, by every reader (issue 12.6).

Before: a FIFO as the manifest held the load for the whole startup timeout, and a manifest
linked to /dev/zero made its reader grow by gigabytes a second. Each command runs in a real
process with a 4 GB address-space guard, so that a regression fails instead of eating the
machine's memory.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.test_cli import Server, wait_ready

GUARD_BYTES = 4 << 30
GUARDED_RECCE_TRIO = [
    sys.executable,
    "-c",
    "import resource, runpy, sys; "
    f"resource.setrlimit(resource.RLIMIT_AS, ({GUARD_BYTES}, {GUARD_BYTES})); "
    "sys.argv[0] = 'recce-trio'; runpy.run_module('recce_trio', run_name='__main__')",
]


def fifo(path: Path) -> str:
    os.mkfifo(path)
    return "is a FIFO (named pipe)"


def dev_zero(path: Path) -> str:
    path.symlink_to("/dev/zero")
    return "is a symbolic link to /dev/zero, which is a character device"


SPECIAL: dict[str, Callable[[Path], str]] = {"fifo": fifo, "dev-zero": dev_zero}


def replace(path: Path, special: str) -> str:
    """Put the special file at ``path``; the words the error must use for it."""
    path.unlink()
    return SPECIAL[special](path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and /dev/zero (POSIX)")
@pytest.mark.parametrize("loader", ["thread", "process"])
@pytest.mark.parametrize("special", sorted(SPECIAL))
def test_server_names_the_file_that_is_not_regular(
    project: Path, special: str, loader: str
) -> None:
    path = project / "target" / "manifest.json"
    what = replace(path, special)
    args = ["server", "--port", "0", "--project-dir", str(project), "--loader", loader]
    # The startup timeout is longer than wait_ready's 30 s: a load held by the FIFO fails here.
    server = Server([*args, "--no-watch", "--startup-timeout", "120"], command=GUARDED_RECCE_TRIO)
    try:
        health = wait_ready(server.url)
    finally:
        code = server.stop()
    assert code == 0
    assert health["ready"] is False
    assert health["error"] == "ArtifactReadError"
    artifacts = health["artifacts"]
    assert isinstance(artifacts, dict)
    assert artifacts["curr_manifest"]["state"] == "failed"
    assert artifacts["base_manifest"]["state"] == "loaded"
    # The log names the file, what it is, and what to do.
    assert f"{path} {what}, not a regular manifest.json file." in server.output
    assert "point it at the manifest.json that dbt wrote" in server.output


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and /dev/zero (POSIX)")
@pytest.mark.parametrize("command", ["run", "summary"])
@pytest.mark.parametrize("special", sorted(SPECIAL))
@pytest.mark.parametrize("name", ["manifest.json", "catalog.json"])
def test_offline_commands_name_the_file_that_is_not_regular(
    project: Path, special: str, command: str, name: str
) -> None:
    what = replace(project / "target-base" / name, special)
    args = [command, "--project-dir", str(project)]
    if command == "run":
        args += ["--output", str(project / "out.json")]
    result = subprocess.run(
        [*GUARDED_RECCE_TRIO, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=project,
    )
    assert result.returncode == 1, result.stderr
    assert f"target-base/{name} {what}, not a regular {name} file." in result.stderr
    assert "Traceback" not in result.stderr
