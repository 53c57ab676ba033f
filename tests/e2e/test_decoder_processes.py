"""Decoder processes are kept on a short leash (issue 12.6): their memory is capped in
proportion to the file, and they die with their parent, however it dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recce_trio.errors import ArtifactReadError
from recce_trio.server.decoders import DecoderProcess, memory_limit
from recce_trio.server.leash import EXIT_ORPHANED
from tests.held import HeldFile

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


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_memory_cap_scales_with_the_file(generated: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    path = generated[0] / "target" / "manifest.json"
    stats: dict[str, int] = {}
    manifest = DecoderProcess("manifest", path).result(stats=stats)
    assert manifest.nodes
    assert stats["memory_limit_kb"] == memory_limit(path.stat().st_size) >> 10
    assert memory_limit(100 << 20) == (512 << 20) + (400 << 20)


def test_decoder_over_its_memory_cap_fails_with_a_named_error(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    with path.open("wb") as f:
        f.truncate(256 << 20)  # sparse: 256 MB to read, no disk used
    decoder = DecoderProcess("manifest", path, memory_limit_bytes=128 << 20)
    with pytest.raises(ArtifactReadError) as info:
        decoder.result()
    assert f"decoding {path} needed more than the 128 MB a decoder may use." in str(info.value)
    assert "check that the file is the one dbt wrote" in str(info.value)


def test_a_file_cut_short_under_a_decoder_is_named(project: Path) -> None:
    """A decoder maps the file: should it be cut short while mapped, reading past its new end
    kills the decoder with SIGBUS, which the user sees as the file cut short, not as a crash."""
    path = project / "target" / "manifest.json"
    with HeldFile(path) as held:  # the decoder waits to open the file: alive, not writing
        decoder = DecoderProcess("manifest", path)
        held.wait_for_reader()
        decoder.process.send_signal(signal.SIGBUS)  # what the kernel sends it then
        with pytest.raises(ArtifactReadError) as info:
            decoder.result()
    assert str(info.value).startswith(f"{path} was cut short while it was being read.")
    assert "load it again once the file is complete" in str(info.value)


def test_decoder_exits_when_its_lifeline_closes(project: Path) -> None:
    """The portable watch: end-of-file on the pipe only the parent writes to."""
    path = project / "target" / "manifest.json"
    with HeldFile(path) as held:  # the decoder waits to open the file: busy, not writing
        decoder = DecoderProcess("manifest", path)
        try:
            held.wait_for_reader()
            assert decoder.process.stdin is not None
            decoder.process.stdin.close()  # what the parent's death does to it
            assert decoder.process.wait(timeout=20) == EXIT_ORPHANED
        finally:
            decoder.close()


PARENT = """
import os, sys
from pathlib import Path
from recce_trio.server.decoders import DecoderProcess

decoder = DecoderProcess("manifest", Path(sys.argv[1]))
copy = 0
if sys.argv[2] == "forked-copy":
    copy = os.fork()
    if copy == 0:  # a copy of the parent that holds the decoder's lifeline open too
        sys.stdin.read()
        os._exit(0)
print(decoder.process.pid, copy, flush=True)
sys.stdin.read()  # until killed
"""


@pytest.mark.parametrize("lifeline", ["closed", "forked-copy"])
def test_decoder_dies_with_a_parent_killed_with_sigkill(project: Path, lifeline: str) -> None:
    """``kill -9`` of the server: the decoder goes too. With a forked copy of the parent still
    holding the lifeline open, only PR_SET_PDEATHSIG can tell the decoder."""
    path = project / "target" / "manifest.json"
    with HeldFile(path) as held:  # the decoder waits to open the file: busy, not writing
        parent = subprocess.Popen(
            [sys.executable, "-c", PARENT, str(path), lifeline],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert parent.stdout is not None and parent.stdin is not None
        decoder_pid, copy_pid = map(int, parent.stdout.readline().split())
        try:
            held.wait_for_reader()  # the decoder is past its start, waiting for the file
            assert alive(decoder_pid)
            parent.kill()
            parent.wait()
            # Without a leash the decoder would wait for the file for 45 s (the kernel's
            # lease-break time), then carry on alone.
            assert gone_within(decoder_pid, 20)
        finally:
            for pid in (decoder_pid, copy_pid):
                if pid and alive(pid):
                    os.kill(pid, signal.SIGKILL)
            parent.stdin.close()
            parent.stdout.close()


def decoders_reading(path: Path) -> list[int]:
    """The pids of decoder processes started for ``path`` (found by their command line)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        is_decoder = any(b"decoders import main" in a for a in argv)
        if is_decoder and str(path).encode() in argv and alive(int(entry.name)):
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize(
    "refusal", ["recce.yml", "hypercorn.toml"], ids=["bad-recce-yml", "bad-hypercorn-config"]
)
def test_server_refused_after_its_decoders_started_leaves_none_behind(
    project: Path, refusal: str
) -> None:
    """`recce-trio server` starts decoding before its last checks: when one of them refuses
    to start (exit 1 or 2), the decoder it started goes with it, even one still busy."""
    args = ["server", "--project-dir", str(project), "--port", "0"]
    checked = project / refusal
    if refusal == "recce.yml":
        checked.write_text("checks:\n  - name: no type here\n    params: {}\n")
        expected = 1
    else:
        checked.write_text("bindd = ['127.0.0.1:0']\n")
        args += ["--hypercorn-config", str(checked)]
        expected = 2
    path = project / "target" / "manifest.json"
    # Both files held: the decoder waits to open the manifest (it cannot finish), and the
    # server waits to read the file it then refuses, until the decoder is seen waiting.
    with HeldFile(path) as manifest, HeldFile(checked) as config:
        server = subprocess.Popen(
            [sys.executable, "-m", "recce_trio", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            manifest.wait_for_reader()
            config.wait_for_reader()
            assert len(decoders_reading(path)) == 1
            config.release()
            _, stderr = server.communicate(timeout=60)
            assert server.returncode == expected, stderr
            assert "serving on" not in stderr
            deadline = time.monotonic() + 20
            while decoders_reading(path) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert decoders_reading(path) == []
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
            for pid in decoders_reading(path):
                os.kill(pid, signal.SIGKILL)
