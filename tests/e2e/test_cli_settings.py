"""Settings through the real `recce-trio` command: one precedence, the same refusal for a flag
and its variable, and no false "no changes" when the base environment is missing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest

from recce_trio.config import DEMO_DIR, settings_for
from tests.artifact_json import write_project
from tests.e2e.test_cli import Server, run_cli, wait_ready

CHANGED_IN_DEMO = "Changed nodes: 5"


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """The bundled demo (target/ and target-base/, five changed nodes) as a project folder."""
    project = tmp_path / "demo"
    shutil.copytree(DEMO_DIR, project)
    return project


def test_server_takes_recce_project_dir_over_dbt_project_dir(tmp_path: Path) -> None:
    # Regression: click read DBT_PROJECT_DIR while the asgi entry point read RECCE_PROJECT_DIR.
    two_envs = write_project(tmp_path / "a")
    one_env = write_project(tmp_path / "b", with_base=False)
    env = {"RECCE_PROJECT_DIR": str(two_envs), "DBT_PROJECT_DIR": str(one_env)}
    server = Server(["server", "--port", "0"], env=env)
    try:
        health = wait_ready(server.url)
        assert health["ready"] is True
        assert health["single_env"] is False  # target-base/ of RECCE_PROJECT_DIR was found
        assert httpx.get(f"{server.url}/api/flag").json()["read_only"] is False
    finally:
        assert server.stop() == 0


def test_run_honours_recce_project_dir(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "state.json"
    result = run_cli("run", "-o", str(out), env={"RECCE_PROJECT_DIR": str(demo)})
    assert result.returncode == 0, result.stderr
    assert CHANGED_IN_DEMO in result.stdout
    assert json.loads(out.read_text())["artifacts"]["base"]["manifest"] is not None


@pytest.mark.parametrize(
    ("args", "env", "where"),
    [
        (["--ui-dir", "/nonexistent/ui"], {}, "--ui-dir"),
        ([], {"RECCE_UI_DIR": "/nonexistent/ui"}, "RECCE_UI_DIR"),
        (["--project-dir", "/nonexistent"], {}, "--project-dir"),
        ([], {"RECCE_PROJECT_DIR": "/nonexistent"}, "RECCE_PROJECT_DIR"),
    ],
)
def test_a_missing_folder_exits_2_before_binding(
    args: list[str], env: dict[str, str], where: str
) -> None:
    result = run_cli("server", "--port", "0", *args, env=env)
    assert result.returncode == 2
    assert f"Error: {where}: '/nonexistent" in result.stderr
    assert "does not exist" in result.stderr
    assert "serving on" not in result.stderr
    assert "single-environment" not in result.stderr


def test_run_and_summary_refuse_a_mistyped_base_path(demo: Path, tmp_path: Path) -> None:
    out, summary = tmp_path / "x.json", tmp_path / "x.md"
    typo = ["--project-dir", str(demo), "--target-base-path", "target-bsae"]
    result = run_cli("run", *typo, "-o", str(out), "--summary", str(summary))
    assert result.returncode == 2
    assert "--target-base-path" in result.stderr and "target-bsae' does not exist" in result.stderr
    assert "Changed nodes" not in result.stdout
    assert not out.exists() and not summary.exists()
    result = run_cli("summary", *typo)
    assert result.returncode == 2 and "target-bsae" in result.stderr
    assert "No changed model" not in result.stdout
    result = run_cli("summary", "--project-dir", str(demo), env={"RECCE_TARGET_BASE_PATH": "nope"})
    assert result.returncode == 2 and "RECCE_TARGET_BASE_PATH" in result.stderr


def test_server_refuses_a_mistyped_base_path_before_binding(demo: Path) -> None:
    result = run_cli(
        "server", "--port", "0", "--project-dir", str(demo), "--target-base-path", "target-bsae"
    )
    assert result.returncode == 2
    assert "target-bsae' does not exist" in result.stderr
    assert "serving on" not in result.stderr


def test_run_and_summary_fail_without_a_base_environment(demo: Path, tmp_path: Path) -> None:
    shutil.rmtree(demo / "target-base")
    out = tmp_path / "x.json"
    for args in (["run", "-o", str(out)], ["summary"]):
        result = run_cli(*args, "--project-dir", str(demo))
        assert result.returncode == 1, args
        assert "base environment's artifacts are missing" in result.stderr
        assert "--single-env" in result.stderr  # the way out, when one environment is meant
        assert "Changed nodes" not in result.stdout and "No changed model" not in result.stdout
    assert not out.exists()


def test_single_env_is_one_environment_when_asked_for(demo: Path, tmp_path: Path) -> None:
    shutil.rmtree(demo / "target-base")
    out = tmp_path / "x.json"
    result = run_cli("run", "--project-dir", str(demo), "--single-env", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "Changed nodes: 0" in result.stdout
    assert "single-environment mode (--single-env)" in result.stderr
    result = run_cli("summary", "--project-dir", str(demo), env={"RECCE_SINGLE_ENV": "1"})
    assert result.returncode == 0, result.stderr
    assert "single-environment mode (RECCE_SINGLE_ENV)" in result.stderr


def test_server_without_a_base_still_starts_in_single_environment_mode(demo: Path) -> None:
    shutil.rmtree(demo / "target-base")
    server = Server(["server", "--port", "0", "--project-dir", str(demo)])
    try:
        health = wait_ready(server.url)
        assert health["ready"] is True and health["single_env"] is True
    finally:
        assert server.stop() == 0
    assert "single-environment mode" in server.output


@pytest.mark.parametrize("case", ["read-only", "no folder"])
def test_a_state_file_that_cannot_be_saved_is_refused_before_binding(
    project: Path, tmp_path: Path, case: str
) -> None:
    state_file = tmp_path / "missing" / "state.json"
    if case == "read-only":
        state_file = tmp_path / "state.json"
        state_file.write_text("{}")
        state_file.chmod(0o444)
    result = run_cli("server", str(state_file), "--port", "0", "--project-dir", str(project))
    assert result.returncode == 2
    assert "Error: STATE_FILE: the state file" in result.stderr
    assert ("is read-only" if case == "read-only" else "does not exist") in result.stderr
    assert "serving on" not in result.stderr
    result = run_cli(
        "server",
        "--port",
        "0",
        env={"RECCE_STATE_FILE": str(state_file), "RECCE_PROJECT_DIR": str(project)},
    )
    assert result.returncode == 2 and "Error: RECCE_STATE_FILE: the state file" in result.stderr


def test_review_of_a_read_only_state_file_says_it_is_served_read_only(
    project: Path, tmp_path: Path
) -> None:
    state_file = tmp_path / "state.json"
    assert run_cli("run", "--project-dir", str(project), "-o", str(state_file)).returncode == 0
    state_file.chmod(0o444)
    before = state_file.read_bytes()
    server = Server(["server", "--review", str(state_file), "--port", "0"])
    try:
        assert wait_ready(server.url)["ready"] is True
        assert httpx.get(f"{server.url}/api/checks").status_code == 200
        # As Recce's --mode read-only says it: its web UI then hides the editing controls.
        assert httpx.get(f"{server.url}/api/flag").json()["read_only"] is True
        assert httpx.get(f"{server.url}/api/instance-info").json()["read_only"] is True
    finally:
        assert server.stop() == 0
    assert "the review is served read-only" in server.output
    assert state_file.read_bytes() == before


@pytest.mark.parametrize("command", ["server", "run", "summary"])
def test_help_shows_every_flag_and_environment_variable(command: str) -> None:
    result = run_cli(command, "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())  # click wraps long lines
    for row in settings_for(command):
        assert row.flags[0] in text
        for var in row.env:
            assert var in text, (row.name, var)
        assert f"default: {row.default_text}" in text, row.name
