"""Compare recce-trio's selector with the answers dbt-core gave (see ``record.py``).

``compare(case_dir)`` reads a recorded case (``target-base/manifest.json.gz``,
``target/manifest.json.gz`` and ``expected.json``), asks
``SelectionGraph(base, current).select(select=..., exclude=..., packages=None)``
every recorded selector, and returns one line per disagreement (an empty list when all agree).
It needs no dbt: the committed fixtures are enough.

Both sides are restricted the same way before comparing:

- tests and unit tests are dropped (ids starting with ``test.`` or ``unit_test.``): recce-trio's
  lineage has no test nodes, while ``dbt ls`` lists the tests attached to what it selects;
- only the resource types that plain ``dbt ls`` lists are kept (``ls_default_resource_types``
  of expected.json: every type but ``analysis``; ``operation`` nodes, the project's hooks, are
  never listed by dbt). So an analysis or a hook that recce-trio selects is not a mismatch.

``packages=None`` means "no package restriction" (what ``dbt ls`` does); the Recce API layer
adds the root-project default on its own.
"""

from __future__ import annotations

import gzip
import json
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

DROPPED_TYPES = frozenset({"test", "unit_test"})


def load_expected(case_dir: Path) -> dict[str, Any]:
    return json.loads((Path(case_dir) / "expected.json").read_text())


def comparable(unique_ids: Iterable[str], kept_types: Iterable[str]) -> set[str]:
    kept = set(kept_types) - DROPPED_TYPES
    return {uid for uid in unique_ids if uid.split(".", 1)[0] in kept}


def describe(select: str | None, exclude: str | None) -> str:
    text = f"--select {select!r}" if select is not None else "(no --select)"
    if exclude is not None:
        text += f" --exclude {exclude!r}"
    return text


def _artifact(case_dir: Path, env: str, name: str, tmp: Path) -> Path:
    """The plain JSON path of an artifact, decompressing ``NAME.gz`` when that is what exists."""
    plain = case_dir / env / name
    if plain.exists():
        return plain
    packed = case_dir / env / f"{name}.gz"
    out = tmp / env / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(gzip.decompress(packed.read_bytes()))
    return out


def load_manifests(case_dir: Path) -> tuple[Any, Any]:
    from recce_trio.core.artifacts import read_manifest

    case_dir = Path(case_dir)
    with tempfile.TemporaryDirectory(prefix="recce-trio-oracle-") as tmp:
        base = read_manifest(_artifact(case_dir, "target-base", "manifest.json", Path(tmp)))
        current = read_manifest(_artifact(case_dir, "target", "manifest.json", Path(tmp)))
    return base, current


def _selectors(base: Any, current: Any) -> list[tuple[str, Callable[..., set[str]]]]:
    """The selector functions to check against dbt for this pair of manifests.

    ``SelectionGraph`` is Recce's selection: its graph also holds the base-only (removed) nodes,
    which ``dbt ls --state`` cannot see. Where nothing was removed both graphs are the same,
    and it must agree with dbt. Where something was removed, the plain
    dbt graph (``SelectionGraph(..., merge_removed=False)``) is compared instead.
    """
    from recce_trio.core.selector import SelectionGraph

    removed = base.all_nodes().keys() - current.all_nodes().keys()
    if not removed:
        graph = SelectionGraph(base, current)
        return [("SelectionGraph", lambda **kw: set(graph.select(**kw)))]
    plain = SelectionGraph(base, current, merge_removed=False)
    return [("SelectionGraph(merge_removed=False)", lambda **kw: set(plain.select(**kw)))]


def compare(case_dir: Path | str) -> list[str]:
    case_dir = Path(case_dir)
    expected = load_expected(case_dir)
    kept_types = expected["ls_default_resource_types"]
    base, current = load_manifests(case_dir)
    mismatches: list[str] = []
    for name, select_fn in _selectors(base, current):
        for answer in expected["answers"]:
            select, exclude = answer["select"], answer["exclude"]
            label = f"{case_dir.name}: {name}: {describe(select, exclude)}"
            want = comparable(answer["unique_ids"], kept_types)
            try:
                got_raw = select_fn(select=select, exclude=exclude, packages=None)
            except Exception as exc:  # a selector error is a mismatch, reported like the others
                mismatches.append(f"{label}: raised {type(exc).__name__}: {exc}")
                continue
            got = comparable(got_raw, kept_types)
            if got != want:
                missing = sorted(want - got)
                extra = sorted(got - want)
                mismatches.append(f"{label}: missing {missing}, extra {extra}")
    return mismatches


def compare_answers(recorded: dict[str, Any], fresh: dict[str, Any]) -> list[str]:
    """Differences between two recordings of the same case (dbt answers only)."""
    out: list[str] = []
    old = {(a["select"], a["exclude"]): a["unique_ids"] for a in recorded["answers"]}
    new = {(a["select"], a["exclude"]): a["unique_ids"] for a in fresh["answers"]}
    for key in sorted(old.keys() | new.keys(), key=str):
        if old.get(key) != new.get(key):
            case = recorded.get("case")
            out.append(f"{case}: {describe(*key)}: {old.get(key)} != {new.get(key)}")
    return out
