"""The state file: round trips, Recce's schema, refusals, merges, and crash-safe writes."""

from __future__ import annotations

import copy
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from recce_trio.core import state as statefile
from recce_trio.core.checks import RUN_STATUSES, RUN_TYPES, Check, Checklist, Run
from recce_trio.core.runresults import upgrade_run_result
from tests.conftest import STATE_CORPUS

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def validate_v0(doc: dict[str, Any]) -> None:
    """The upstream schema (recce/state/state.py, spec §5.1), as pydantic would enforce it."""
    assert set(doc) <= {"metadata", "runs", "checks", "artifacts", "git", "pull_request"}
    meta = doc["metadata"]
    assert meta["schema_version"] == "v0"
    assert isinstance(meta["recce_version"], str)
    assert TIME.match(meta["generated_at"])
    for check in doc["checks"]:
        assert isinstance(check["name"], str) and isinstance(check["description"], str)
        assert check["type"] in RUN_TYPES
        assert uuid.UUID(check["check_id"]).version == 4
        assert isinstance(check["is_checked"], bool) and isinstance(check["is_preset"], bool)
        assert TIME.match(check["created_at"]) and TIME.match(check["updated_at"])
        for key in ("params", "view_options"):
            assert check.get(key) is None or isinstance(check[key], dict)
        assert None not in check.values()  # written with exclude_none
    for run in doc["runs"]:
        assert run["type"] in RUN_TYPES
        assert uuid.UUID(run["run_id"]) and TIME.match(run["run_at"])
        assert run.get("status") in (None, *RUN_STATUSES)
        assert run.get("check_id") is None or uuid.UUID(run["check_id"])
        assert None not in run.values()
    assert set(doc["artifacts"]) == {"base", "current"}
    for env in ("base", "current"):
        assert set(doc["artifacts"][env]) <= {"manifest", "catalog"}
        for artifact in doc["artifacts"][env].values():
            assert artifact is None or isinstance(artifact, dict)
    assert doc.get("git") is None or isinstance(doc["git"], dict)


def sample(n_checks: int = 3) -> tuple[list[Check], list[Run], dict[tuple[str, str], bytes | None]]:
    checks = [
        Check(name=f"check {i}", type="schema_diff", params={"node_id": f"model.shop.m{i}"},
              is_checked=i % 2 == 0, created_at="2026-01-01T00:00:00Z",
              updated_at="2026-01-01T00:00:00Z")
        for i in range(n_checks)
    ]  # fmt: skip
    runs = [
        Run(type="row_count_diff", name="Row count", params={}, check_id=checks[0].check_id,
            result={"orders": {"base": 1, "curr": None}}, status="Finished",
            run_at="2026-01-01T00:00:01Z")
    ]  # fmt: skip
    artifacts = {
        ("base", "manifest"): b'{"metadata": {"generated_at": "2026-01-01T00:00:00Z"}}',
        ("base", "catalog"): None,
        ("current", "manifest"): b'{"metadata": {}, "nodes": {"a": [1, 2.5, "\\u00e9"]}}',
        ("current", "catalog"): b'{"nodes": {}}',
    }
    return checks, runs, artifacts


def encode(checks: list[Check], runs: list[Run], artifacts: Any, **kw: Any) -> bytes:
    checks_json, runs_json = statefile.encode_records(checks, runs)
    return statefile.encode_state(
        checks_json=checks_json, runs_json=runs_json, artifacts=artifacts,
        generated_at="2026-02-02T00:00:00Z", **kw,
    )  # fmt: skip


def test_round_trip_is_identical() -> None:
    checks, runs, artifacts = sample()
    data = encode(checks, runs, artifacts, git={"branch": "feature"})
    loaded = statefile.decode_state(data, path="x.json")
    assert loaded.checks == checks
    assert loaded.runs == runs
    assert loaded.artifacts == artifacts  # byte for byte
    again = encode(loaded.checks, loaded.runs, loaded.artifacts, git=loaded.git)
    assert again == data


def test_written_file_matches_the_upstream_schema() -> None:
    checks, runs, artifacts = sample()
    doc = json.loads(encode(checks, runs, artifacts, git={"branch": "main"}))
    validate_v0(doc)
    assert doc["artifacts"]["base"]["catalog"] is None
    assert doc["artifacts"]["current"]["manifest"]["nodes"]["a"] == [1, 2.5, "é"]


@pytest.mark.parametrize("name", ["doriwilson__dbt-ci-cd", "doriwilson__recce-super-demo"])
def test_reads_what_recce_wrote_and_writes_it_back(name: str) -> None:
    path = STATE_CORPUS / name / "recce_state.json"
    if not path.is_file():
        pytest.skip(f"corpus state file absent: {path}")
    original = json.loads(path.read_bytes())
    loaded = statefile.read_state(path)
    assert loaded is not None
    assert [c.check_id for c in loaded.checks] == [c["check_id"] for c in original["checks"]]
    assert all(r.status == "Finished" for r in loaded.runs)  # legacy "finished" normalised
    doc = json.loads(encode(loaded.checks, loaded.runs, loaded.artifacts, git=loaded.git))
    validate_v0(doc)
    assert doc["artifacts"] == original["artifacts"]
    assert doc["git"] == original["git"]
    for mine, theirs in zip(doc["checks"], original["checks"], strict=True):
        assert mine == theirs
    for mine, theirs in zip(doc["runs"], original["runs"], strict=True):
        # Older results are upgraded on load, as Recce does (DataFrame columns get "key").
        result = upgrade_run_result(theirs["type"], copy.deepcopy(theirs.get("result")))
        expected = {**theirs, "status": theirs["status"].capitalize()}
        if result is not None:
            expected["result"] = result
        assert mine == expected


@pytest.mark.parametrize(
    ("data", "error", "words"),
    [
        (b"", statefile.StateFileCorruptError, "is empty"),
        (b'{"metadata": {"schema_version": "v0"}, "checks": [', statefile.StateFileCorruptError,
         "not valid JSON"),
        (b'{"metadata": {"dbt_schema_version": "x"}, "nodes": {}}', statefile.NotAStateFileError,
         "not a Recce state file"),
        (b'{"checks": [{"name": 1, "type": "simple"}]}', statefile.NotAStateFileError,
         "$.checks[0].name"),
        (b'{"checks": [{"name": "a", "type": "nope"}]}', statefile.NotAStateFileError,
         "checks[0] has unknown type 'nope'"),
        (b'{"metadata": {"schema_version": "v1"}, "checks": []}',
         statefile.UnsupportedStateVersionError, "Unsupported state file version: v1"),
    ],
)  # fmt: skip
def test_bad_files_are_refused_with_a_named_error(data: bytes, error: type, words: str) -> None:
    with pytest.raises(error) as info:
        statefile.decode_state(data, path="/x/recce_state.json")
    assert words in str(info.value)
    assert "/x/recce_state.json" in str(info.value)


def test_missing_file_reads_as_none(tmp_path: Path) -> None:
    assert statefile.read_state(tmp_path / "nope.json") is None


def test_merge_keeps_the_later_edit_and_matches_presets() -> None:
    mine = Check(name="old", type="simple", updated_at="2026-01-01T00:00:00Z")
    theirs = Check(name="new", type="simple", check_id=mine.check_id,
                   updated_at="2026-01-02T00:00:00Z")  # fmt: skip
    preset = Check(name="p", type="schema_diff", params={}, is_preset=True)
    other_preset = Check(name="p2", type="schema_diff", params={}, is_preset=True,
                         updated_at="2999-01-01T00:00:00Z")  # fmt: skip
    checklist = Checklist([mine, preset])
    run = Run(type="schema_diff", run_at="2026-01-01T00:00:00Z")
    added_runs, merged = checklist.merge([theirs, other_preset], [run, run])
    assert (added_runs, merged) == (1, 2)
    assert [c.name for c in checklist.checks] == ["new", "p2"]
    assert checklist.merge([mine], []) == (0, 0)  # older: ignored


def test_atomic_write_keeps_mode_and_follows_symlinks(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("{}")
    real.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    statefile.write_atomic(link, b'{"a": 1}')
    assert link.is_symlink()
    assert real.read_text() == '{"a": 1}'
    assert real.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


WRITER = """
import sys
from pathlib import Path
from recce_trio.core.state import write_atomic
path = Path(sys.argv[1])
i = 0
print("started", flush=True)
while True:
    i += 1
    body = ("x" * 200_000)
    write_atomic(path, ('{"generation": %d, "pad": "%s"}' % (i, body)).encode())
    print("wrote", i, flush=True)
"""


def test_killed_writer_always_leaves_a_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "recce_state.json"
    path.write_text('{"generation": 0, "pad": ""}')
    rng = random.Random(7)
    repo = Path(__file__).resolve().parents[2]
    for attempt in range(30):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True,
            cwd=repo,
        )  # fmt: skip
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "started"
        if attempt == 0:
            assert proc.stdout.readline().strip() == "wrote 1"  # kill after a whole save
        else:
            time.sleep(rng.uniform(0.0, 0.05))  # kill anywhere, often mid-write
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        data = json.loads(path.read_bytes())  # always parses: the old or the new state
        assert set(data) == {"generation", "pad"}
        # The last whole save survives every later kill, mid-write or not: never a part of
        # one, never the state from before it.
        assert data["generation"] >= 1 and data["pad"] == "x" * 200_000, data["generation"]
        for leftover in tmp_path.glob(".recce_state.json.*.tmp"):
            os.unlink(leftover)  # a killed writer's temp file; never the state itself


def test_a_read_only_state_file_is_never_replaced(tmp_path: Path) -> None:
    from recce_trio.core.state import write_atomic

    path = tmp_path / "recce_state.json"
    path.write_bytes(b'{"metadata": {"schema_version": "v0"}}')
    path.chmod(0o444)
    # Even for root, who passes every permission check, the mode says "keep me".
    with pytest.raises(PermissionError):
        write_atomic(path, b"{}")
    assert path.read_bytes() == b'{"metadata": {"schema_version": "v0"}}'
    assert [p.name for p in tmp_path.iterdir()] == ["recce_state.json"]  # no temp file left


def test_stale_temp_files_of_interrupted_saves_are_removed(tmp_path: Path) -> None:
    from recce_trio.core.state import remove_stale_temp_files

    path = tmp_path / "recce_state.json"
    old = tmp_path / ".recce_state.json.abc123.tmp"
    young = tmp_path / ".recce_state.json.def456.tmp"
    other = tmp_path / ".other.json.abc123.tmp"
    for leftover in (old, young, other):
        leftover.write_bytes(b"{")
    hour_ago = time.time() - 3600
    os.utime(old, (hour_ago, hour_ago))
    os.utime(other, (hour_ago, hour_ago))
    assert remove_stale_temp_files(path) == [old]
    assert young.exists() and other.exists()  # a save in progress; another file's
