"""A regular artifact file that no one can open until the test lets go of it.

The startup tests need a load that is still running when they look at it. A child process
takes a write lease on the file (Linux ``F_SETLEASE``); the kernel then holds every other
process's ``open()`` of it until the lease is released, or broken after
``/proc/sys/fs/lease-break-time`` (45 s by default). Readers see an ordinary regular file.
"""

from __future__ import annotations

import fcntl
import select
import subprocess
import sys
from pathlib import Path
from types import TracebackType

import pytest

_HOLDER = """
import fcntl, os, signal, sys
# The kernel's notice that a reader waits for the file: passed on to the test.
signal.signal(signal.SIGIO, lambda *_: os.write(1, b"reader waits\\n"))
fd = os.open(sys.argv[1], os.O_WRONLY)
fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_WRLCK)
print("held", flush=True)
sys.stdin.read()  # until the test lets go
"""


class HeldFile:
    """``with HeldFile(path):`` opens of ``path`` by other processes wait until ``release()``
    or the end of the block. The test process itself must not have the file open."""

    def __init__(self, path: Path) -> None:
        if not hasattr(fcntl, "F_SETLEASE"):
            pytest.skip("holding a file open needs Linux file leases (F_SETLEASE)")
        self.path = path
        self.process = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line == "held\n", f"could not take a lease on {path} (exit {self.process.wait()})"

    def wait_for_reader(self, timeout: float = 20) -> None:
        """Return once another process is waiting to open the file."""
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        assert ready, f"no reader came for {self.path} within {timeout} s"
        assert self.process.stdout.readline() == "reader waits\n"

    def release(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            self.process.wait(timeout=30)
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()

    def __enter__(self) -> HeldFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
