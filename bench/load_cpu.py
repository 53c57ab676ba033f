"""The CPU time one manifest costs each side of the process loader, measured alone.

    python bench/load_cpu.py /tmp/gen5000/target/manifest.json --reps 4

Per repetition: a decoder process (server/decoders.py) decodes the file and writes its
frames; once it has had time to finish alone, this process reads them as the server's
loader thread does (records into the manifest, each lineage record's share into a
``SideBuilder``) and then makes the rest of the side. Printed: the decoder process's CPU
time (``getrusage`` of the child), the reading thread's (``time.thread_time``) and the side's
rest, min and median over the repetitions. Measured one after the other, not overlapped, so
a shared machine inflates them less than a whole server start (bench/startup.py).
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import time
from pathlib import Path

from recce_trio.core.side import Side, SideBuilder
from recce_trio.server.decoders import DecoderProcess


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--reps", type=int, default=4)
    parser.add_argument("--wait", type=float, default=1.5, help="seconds the decoder runs alone")
    args = parser.parse_args()
    gc.disable()  # as during the server's load
    rows: list[tuple[float, float, float]] = []
    for _ in range(args.reps):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        decoder = DecoderProcess("manifest", args.manifest)
        time.sleep(args.wait)
        builder = SideBuilder()
        start = time.thread_time()
        manifest = decoder.result(on_records=builder.add)
        frames = time.thread_time()
        Side(manifest, early=builder)
        side = time.thread_time()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        child = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        rows.append((child * 1000, (frames - start) * 1000, (side - frames) * 1000))
    names = (
        "decoder process",
        "server: the frames (records and shares)",
        "server: the rest of the side",
    )
    print(f"{args.manifest}, {args.reps} repetitions, CPU ms:")
    for i, name in enumerate(names):
        values = [row[i] for row in rows]
        print(f"  {name:<42} min {min(values):7.1f}  median {statistics.median(values):7.1f}")


if __name__ == "__main__":
    main()
