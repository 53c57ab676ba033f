"""The whole-project column lineage map computed in a child process (server.cll_child): its
answers are the in-process ones, and it never outlives the server, a reload or its own
parent process."""

from __future__ import annotations

import io
import json
import signal
import sys
import time
from pathlib import Path

import httpx
import pytest
import trio

from recce_trio.core.artifacts import read_catalog, read_manifest
from recce_trio.core.cll.api import CllProject, cll_data
from recce_trio.server.cll_process import CllMapProcess
from recce_trio.server.cll_work import MAP_IN_CHILD_MIN_NODES, _lineage_ids_and_modified, _receive
from recce_trio.server.leash import EXIT_ORPHANED
from tests.api.helpers import call, ready_app
from tests.conftest import load_bench_module
from tests.e2e.test_cli import Server, wait_ready

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads process states from /proc (Linux)"
)


def alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie, waiting for someone to reap it, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
            out.append(int(entry.name))
    return out


def lineage_child(server_pid: int) -> int | None:
    for pid in children(server_pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"recce_trio.server.cll_child" in cmdline:
            return pid
    return None


def wait_for_workers(server_pid: int, timeout: float = 120) -> tuple[int, list[int]]:
    """The lineage child of ``server_pid`` once it has forked its two workers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        child = lineage_child(server_pid)
        if child is not None:
            workers = children(child)
            if len(workers) == 2:
                return child, workers
        time.sleep(0.01)
    raise AssertionError("no lineage child with workers appeared (did the map end already?)")


def gone_within(pids: list[int], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while any(alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def paths_of(root: Path) -> dict[str, str | None]:
    return {
        f"{env}_{kind}": str(root / ("target-base" if env == "base" else "target") / f"{kind}.json")
        for env in ("base", "current")
        for kind in ("manifest", "catalog")
    }


def read_project(root: Path) -> CllProject:
    return CllProject(
        read_manifest(root / "target-base" / "manifest.json"),
        read_catalog(root / "target-base" / "catalog.json"),
        read_manifest(root / "target" / "manifest.json"),
        read_catalog(root / "target" / "catalog.json"),
    )


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated project whose map takes the child several seconds."""
    out = tmp_path_factory.mktemp("gen2000")
    load_bench_module("make_artifacts").make_project(out, 2000, seed=5, check=False)
    return out


def test_the_childs_map_answers_as_the_in_process_one(generated: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    root = generated[0]
    here = read_project(root)
    here.full_map()
    served = read_project(root)
    ids, modified = _lineage_ids_and_modified(served)
    assert modified, "the generated project has modified models"
    child = CllMapProcess(
        paths_of(root), changes=served.changes, ids=ids, modified=modified, workers=2
    )
    installed = 0
    try:
        while True:
            tag, value = _receive(child, served)
            assert tag in ("H", "E", "C", "Z"), value
            installed += value if tag == "E" else 0
            if tag == "Z":
                break
    finally:
        child.close()
    assert installed == len(ids)
    served.build_index()
    misses = served.cache.misses
    for uid in ids:
        assert cll_data(served, node_id=uid) == cll_data(here, node_id=uid), uid
    for uid in modified:
        assert served.change(uid) == here.change(uid), uid
    impact = {"change_analysis": True, "no_upstream": True}
    assert cll_data(served, **impact) == cll_data(here, **impact)
    assert served.cache.misses == misses  # nothing was computed here: all came from the child


def test_a_child_that_read_other_artifacts_is_refused(
    generated: tuple[Path, dict],  # type: ignore[type-arg]
    project: Path,
) -> None:
    served = read_project(project)  # another project than the files the child reads
    ids, modified = _lineage_ids_and_modified(served)
    child = CllMapProcess(
        paths_of(generated[0]), changes=served.changes, ids=ids, modified=modified, workers=1
    )
    try:
        tag, reason = _receive(child, served)
    finally:
        child.close()
    assert (tag, reason) == ("X", "the artifact files are not the ones being served")
    assert served.cache.misses == served.cache.hits == len(served.cache) == 0


def test_the_child_computes_first_the_nodes_it_is_asked_to_hurry_with(
    generated: tuple[Path, dict],  # type: ignore[type-arg]
) -> None:
    root = generated[0]
    served = read_project(root)
    ids, modified = _lineage_ids_and_modified(served)
    last = [uid for uid in ids if uid not in modified][-5:]  # what it would compute last
    child = CllMapProcess(
        paths_of(root), changes=served.changes, ids=ids, modified=modified, workers=1
    )
    order: list[str] = []
    try:
        child.hurry(last)
        while True:
            frame = child.next_frame()
            assert frame is not None, child.stderr_tail()
            tag, value = frame
            if tag == "C":
                order.clear()  # the modified nodes come first all the same
            elif tag == "E":
                order.extend(uid for uid, _ in value[1])
            elif tag == "Z":
                break
    finally:
        child.close()
    assert order[: len(last)] == last
    assert sorted(order) == sorted(uid for uid in ids if uid not in modified)


def test_the_child_exits_when_its_lifeline_closes(generated: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    root = generated[0]
    served = read_project(root)
    ids, modified = _lineage_ids_and_modified(served)
    child = CllMapProcess(
        paths_of(root), changes=served.changes, ids=ids, modified=modified, workers=2
    )
    try:
        assert child.process.stdin is not None
        child.process.stdin.close()  # what the server's death, however it dies, does to it
        assert child.process.wait(timeout=60) == EXIT_ORPHANED
    finally:
        child.close()


def test_the_workers_die_with_the_child(big: Path) -> None:
    served = read_project(big)
    ids, modified = _lineage_ids_and_modified(served)
    child = CllMapProcess(
        paths_of(big), changes=served.changes, ids=ids, modified=modified, workers=2
    )
    deadline = time.monotonic() + 120
    workers: list[int] = []
    while len(workers) < 2 and time.monotonic() < deadline and child.process.poll() is None:
        workers = children(child.process.pid)
        time.sleep(0.01)
    try:
        assert len(workers) == 2, "the child never forked its two workers"
        child.process.kill()  # the child alone: its workers must follow
        assert gone_within(workers, 20)
    finally:
        child.close()


def test_shutting_the_server_down_mid_map_leaves_no_child(big: Path) -> None:
    server = Server(["server", "--port", "0", "--no-watch", "--project-dir", str(big)])
    try:
        assert wait_ready(server.url)["ready"] is True
        child, workers = wait_for_workers(server.proc.pid)
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(timeout=60) == 0
        assert gone_within([child, *workers], 20), "a lineage process outlived the server"
        assert "column lineage map:" not in server.output  # it was stopped mid-way
    finally:
        server.stop()


def test_a_reload_mid_map_kills_the_child_and_maps_the_new_review_anew(big: Path) -> None:
    assert MAP_IN_CHILD_MIN_NODES < 2000
    newer = json.loads((big / "target" / "catalog.json").read_bytes())
    newer["metadata"]["generated_at"] = "2030-01-01T00:00:00Z"
    upload = {"checks": [], "runs": [], "artifacts": {"base": {}, "current": {"catalog": newer}}}
    server = Server(["server", "--port", "0", "--no-watch", "--project-dir", str(big)])
    try:
        assert wait_ready(server.url)["ready"] is True
        child, workers = wait_for_workers(server.proc.pid)
        response = httpx.post(
            f"{server.url}/api/import",
            data={"checks_only": "false"},
            files={"file": ("s.json", io.BytesIO(json.dumps(upload).encode()))},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        assert gone_within([child, *workers], 60), "the old review's lineage child lives on"
        refused = "the artifact files are not the ones being served"
        deadline = time.monotonic() + 120
        while refused not in server.output and time.monotonic() < deadline:
            time.sleep(0.05)
        log = server.output
        assert "column lineage map cancelled: the artifacts were reloaded" in log
        # The new review's catalog is not the file's: the new review's child is refused (the
        # map is then computed in the server).
        assert refused in log
        assert "column lineage map:" not in log
    finally:
        assert server.stop() == 0


async def test_during_the_childs_map_a_big_request_waits_for_its_nodes_a_small_one_does_not(
    big: Path,
) -> None:
    async with ready_app(big) as (app, client):
        state = app.extensions["recce"]
        progress = state.cll_map
        with trio.fail_after(60):
            while progress.child_pid is None:  # noqa: ASYNC110 - no event for the start
                await trio.sleep(0.005)
        project = state.review.cll
        mart = max(project.graph()[0], key=lambda uid: len(project.graph()[0][uid]))
        # One node alone: analysed here at once, while the child goes on.
        status, small = await call(
            client,
            "post",
            "/api/cll",
            {"node_id": mart, "no_upstream": True, "no_downstream": True},
        )
        assert status == 200 and mart in small["current"]["nodes"]
        assert project.index is None and progress.child_pid is not None
        # Its whole lineage: hundreds of nodes the child is computing. The child computes
        # those first and the answer waits for them; nothing more is analysed here.
        misses = state.cll_cache.misses
        status, whole = await call(client, "post", "/api/cll", {"node_id": mart})
        assert status == 200
        assert state.cll_cache.misses == misses
        assert len(whole["current"]["nodes"]) > 100
        assert small["current"]["nodes"][mart]["columns"].keys() <= set(
            whole["current"]["nodes"][mart]["columns"]
        )
        # The same answer as once the whole map is built.
        with trio.fail_after(300):
            await progress.finished.wait()
        assert project.index is not None and progress.state == "done"
        status, after = await call(client, "post", "/api/cll", {"node_id": mart})
        assert status == 200 and after == whole
