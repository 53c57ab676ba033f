"""The settings table and its one funnel: precedence, the same check for every source, and the
paths checked before anything is served."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from recce_trio.config import SETTINGS, ServerConfig, settings_for
from recce_trio.errors import ConfigError
from recce_trio.settings import load
from tests.artifact_json import write_project


@pytest.fixture
def two_projects(tmp_path: Path) -> tuple[Path, Path]:
    return write_project(tmp_path / "a"), write_project(tmp_path / "b", with_base=False)


def test_recce_project_dir_wins_over_dbt_project_dir_for_every_entry_point(
    two_projects: tuple[Path, Path],
) -> None:
    a, b = two_projects
    environ = {"RECCE_PROJECT_DIR": str(a), "DBT_PROJECT_DIR": str(b)}
    for command in ("server", "run", "summary", "asgi"):
        config = load(command, environ=environ)
        assert config.project_dir == a, command
        assert config.sources["project_dir"] == "RECCE_PROJECT_DIR"
    assert load("run", environ={"DBT_PROJECT_DIR": str(b)}).project_dir == b


def test_the_command_line_wins_over_the_environment(two_projects: tuple[Path, Path]) -> None:
    a, b = two_projects
    config = load(
        "server",
        {"project_dir": str(b), "startup_timeout_s": "5"},
        environ={"RECCE_PROJECT_DIR": str(a), "RECCE_STARTUP_TIMEOUT": "60"},
    )
    assert (config.project_dir, config.startup_timeout_s) == (b, 5.0)
    assert config.sources == {
        "project_dir": "--project-dir",
        "startup_timeout_s": "--startup-timeout",
    }


def test_an_empty_variable_counts_as_unset(two_projects: tuple[Path, Path]) -> None:
    a, _ = two_projects
    config = load("server", environ={"RECCE_PROJECT_DIR": "", "DBT_PROJECT_DIR": str(a)})
    assert config.project_dir == a


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("startup_timeout_s", "soon", "must be a number of seconds, got 'soon'"),
        ("startup_timeout_s", "0", "must be more than 0 seconds, got '0'"),
        ("lifetime_s", "-1", "must be 0 (off) or more seconds, got '-1'"),
        ("loader", "fork", "must be one of process, thread, got 'fork'"),
        ("watch", "maybe", "must be true or false, got 'maybe'"),
        ("ui_dir", "/nonexistent/ui", "'/nonexistent/ui' does not exist"),
        ("project_dir", "/nonexistent", "'/nonexistent' does not exist"),
    ],
)
def test_every_source_gets_the_same_check_and_message(name: str, raw: str, message: str) -> None:
    row = next(r for r in SETTINGS if r.name == name)
    with pytest.raises(ConfigError) as from_flag:
        load("server", {name: raw}, environ={})
    with pytest.raises(ConfigError) as from_env:
        load("server", environ={row.env[0]: raw})
    assert str(from_flag.value) == f"{row.flags[0]}: {message}"
    assert str(from_env.value) == f"{row.env[0]}: {message}"


def test_a_file_where_a_folder_is_needed_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ui").write_text("not a folder")
    with pytest.raises(ConfigError, match="RECCE_UI_DIR: .* is not a folder"):
        load("asgi", environ={"RECCE_UI_DIR": str(tmp_path / "ui")})


def test_an_unknown_setting_gets_a_did_you_mean() -> None:
    with pytest.raises(ConfigError, match="did you mean 'project_dir'"):
        load("server", {"project_dirr": "."}, environ={})


def test_direct_construction_checks_the_same_rules() -> None:
    with pytest.raises(ConfigError, match="must be between 0 and 65535"):
        ServerConfig(port=70000)


def test_each_command_reads_only_its_settings(two_projects: tuple[Path, Path]) -> None:
    a, _ = two_projects
    environ = {"RECCE_PROJECT_DIR": str(a), "RECCE_LIFETIME": "9", "RECCE_SINGLE_ENV": "true"}
    assert load("run", environ=environ).lifetime_s == 0  # a server setting
    assert load("run", environ=environ).single_env is True
    assert load("server", environ=environ).single_env is False  # the server needs no flag
    assert {r.name for r in settings_for("asgi")} < {r.name for r in settings_for("server")}
    assert "host" not in {r.name for r in settings_for("asgi")}  # Hypercorn's bind decides


def test_a_base_path_that_was_given_must_exist(two_projects: tuple[Path, Path]) -> None:
    a, b = two_projects
    for command in ("server", "run", "summary", "asgi"):
        with pytest.raises(ConfigError, match="--target-base-path: .*target-bsae' does not exist"):
            load(command, {"project_dir": str(a), "target_base_path": "target-bsae"}, environ={})
        with pytest.raises(ConfigError, match="RECCE_TARGET_BASE_PATH: "):
            load(command, environ={"RECCE_PROJECT_DIR": str(a), "RECCE_TARGET_BASE_PATH": "x"})
    # The default folder may be missing: the server falls back to one environment.
    assert load("server", {"project_dir": str(b)}, environ={}).project_dir == b
    # A summary of a state file does not look at the folders.
    config = load("summary", {"target_base_path": "nowhere"}, environ={}, from_state_file=True)
    assert config.target_base_path == Path("nowhere")


def test_the_state_file_must_be_writable_without_review(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p")
    ok = load("server", {"project_dir": str(project), "state_file": str(tmp_path / "new.json")})
    assert ok.state_file_read_only is False
    with pytest.raises(ConfigError, match="its folder '.*nowhere' does not exist"):
        load(
            "server", {"project_dir": str(project), "state_file": str(tmp_path / "nowhere/s.json")}
        )
    read_only = tmp_path / "ro.json"
    read_only.write_text("{}")
    read_only.chmod(0o444)
    with pytest.raises(ConfigError, match="RECCE_STATE_FILE: the state file .* is read-only"):
        load(
            "asgi", environ={"RECCE_PROJECT_DIR": str(project), "RECCE_STATE_FILE": str(read_only)}
        )
    with pytest.raises(ConfigError, match="is a folder"):
        load("server", {"project_dir": str(project), "state_file": str(tmp_path)})


def test_review_may_read_a_state_file_it_cannot_write(tmp_path: Path) -> None:
    read_only = tmp_path / "ro.json"
    read_only.write_text("{}")
    read_only.chmod(0o444)
    config = load("server", {"state_file": str(read_only), "review": True}, environ={})
    assert config.state_file_read_only is True
    read_only.chmod(0o644)
    config = load("server", {"state_file": str(read_only), "review": True}, environ={})
    assert config.state_file_read_only is False


LOAD_STATE_FILE = """
import sys
from recce_trio.errors import ConfigError
from recce_trio.settings import load
try:
    load("server", {"state_file": sys.argv[1]}, environ={})
except ConfigError as exc:
    print(exc)
"""


def test_a_state_file_in_a_folder_that_cannot_be_written_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "s.json").write_text("{}")
    folder.chmod(0o555)
    prefix: list[str] = []
    if os.geteuid() == 0:  # as in CI: root writes anywhere unless it drops these rights
        if shutil.which("setpriv") is None:
            pytest.skip("running as root, and setpriv (util-linux) is missing to drop its rights")
        prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]
    try:
        result = subprocess.run(
            [*prefix, sys.executable, "-c", LOAD_STATE_FILE, str(folder / "s.json")],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=Path(__file__).resolve().parents[2],
        )
    finally:
        folder.chmod(0o755)
    assert "is not writable" in result.stdout, result.stdout + result.stderr
