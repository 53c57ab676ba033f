"""The CPU time of page_load.py's child processes by kind (Chromium's process types, the
server's process tree, Playwright's driver), from /proc (Linux), and the wait until Chromium is
idle."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def cpu_by_kind(server_pid: int | None) -> dict[str, float]:
    """CPU seconds (user + system) used so far by this process's descendants (with their
    children that have ended), by kind:
    Chromium's by its `--type` (browser, renderer, gpu-process, utility, zygote...), `server`
    for the server's process tree, `driver` for Playwright's; from /proc (Linux)."""
    procs: dict[int, tuple[int, float]] = {}  # pid -> (parent, seconds)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        # utime, stime, and the same of its children that have ended (decoder processes)
        procs[int(entry)] = (int(fields[1]), sum(map(int, fields[11:15])) * TICK_S)
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in procs.items():
        children.setdefault(parent, []).append(pid)
    out: dict[str, float] = {}
    stack = [(pid, False) for pid in children.get(os.getpid(), [])]
    while stack:
        pid, in_server = stack.pop()
        in_server = in_server or pid == server_pid
        kind = "server" if in_server else process_kind(pid)
        out[kind] = out.get(kind, 0.0) + procs[pid][1]
        stack.extend((child, in_server) for child in children.get(pid, []))
    return out


def process_kind(pid: int) -> str:
    """A Chromium process's `--type` ("browser" without one), else "driver" (Playwright's).
    (Chromium's children rewrite their command line as one string.)"""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "driver"
    program = Path(cmdline.split(b"\0")[0].split(b" ")[0].decode(errors="replace")).name
    if "chrom" not in program:
        return "driver"
    if "crashpad" in program:
        return "crashpad"
    kind = re.search(rb"--type=([\w-]+)", cmdline)
    return kind.group(1).decode() if kind else "browser"


def own_cpu(pid: int) -> float:
    """CPU seconds of the process itself (without its children)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return float("nan")
    return sum(map(int, stat[stat.rfind(")") + 2 :].split()[11:13])) * TICK_S


def chromium_seconds(cpu: dict[str, float]) -> float:
    return sum(s for kind, s in cpu.items() if kind not in ("server", "driver"))


def settle(limit_s: float = 20.0) -> float:
    """Wait until Chromium's processes are idle (under 20 ms of CPU in 0.5 s); the seconds
    waited."""
    started = time.monotonic()
    last = chromium_seconds(cpu_by_kind(None))
    while time.monotonic() - started < limit_s:
        time.sleep(0.5)
        now = chromium_seconds(cpu_by_kind(None))
        if now - last < 0.02:
            break
        last = now
    return time.monotonic() - started
