"""How much address space a decoder process needs, against the cap it gets.

    python bench/decoder_memory.py /tmp/gen5000/target-base/manifest.json [--wait 4]

Runs the real decoder (``DecoderProcess``) on one artifact under smaller and smaller
``memory_limit_bytes`` and bisects to the least cap (to 8 MiB) at which the decode still
finishes. ``--wait`` seconds pass before the parent reads the first frame: a parent busy with
its imports lets every frame queue up in the decoder, which then needs the most. Prints the
need, the decoder's peak RSS and the cap the server gives (``decoders.memory_limit``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from recce_trio.errors import ArtifactError
from recce_trio.server.decoders import DecoderProcess, memory_limit

MB = 1 << 20


def decodes(kind: str, path: Path, limit: int, wait: float) -> dict[str, int] | None:
    """The decoder's figures if it finishes under ``limit`` bytes, else None."""
    decoder = DecoderProcess(kind, path, memory_limit_bytes=limit)
    time.sleep(wait)
    stats: dict[str, int] = {}
    try:
        decoder.result(stats=stats)
    except ArtifactError:
        return None
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="a manifest.json or catalog.json")
    parser.add_argument("--wait", type=float, default=0.0, help="seconds before reading")
    args = parser.parse_args()
    kind = "catalog" if args.path.name.startswith("catalog") else "manifest"
    size = args.path.stat().st_size
    cap = memory_limit(size)
    full = decodes(kind, args.path, cap, args.wait)
    if full is None:
        raise SystemExit(f"{args.path} does not decode even under the server's cap")
    low, high = 16 * MB, cap  # fails at low (an interpreter needs more), works at high
    while high - low > 8 * MB:
        middle = (low + high) // 2
        if decodes(kind, args.path, middle, args.wait) is None:
            low = middle
        else:
            high = middle
    print(f"{args.path} ({kind}, {size / MB:.1f} MiB), parent waits {args.wait:g} s:")
    print(f"  least address space that decodes it: {high / MB:.0f} MiB")
    print(f"  decoder peak RSS under the cap:      {full['peak_rss_kb'] / 1024:.0f} MiB")
    print(f"  the server's cap:                    {cap / MB:.0f} MiB ({cap / high:.1f}x the need)")


if __name__ == "__main__":
    main()
