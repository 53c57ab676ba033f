"""Generate dbt-shaped base/current artifacts for N models, for benchmarks and tests.

    python bench/make_artifacts.py --models 5000 --out /tmp/gen5000 [--seed 0]

writes DIR/target-base/{manifest,catalog}.json and DIR/target/{manifest,catalog}.json, shaped as
dbt-core 1.11 writes manifest schema v12 and catalog v1 on postgres (key order, value shapes and
byte layout ``{"a": 1, "b": [2]}`` included), and sized like a real project: about 20 kB of
manifest and 2.6 kB of catalog per model (2,000 models: ~40 MB + ~5 MB).

The project is a staging -> intermediate -> marts DAG over N/4 sources plus seeds, with ~600
adapter and package macros, ~3 generic tests per model and a few exposures. Base is built in the
prod schemas ``analytics_*``, current in CI schemas ``dbt_ci_*``, as recce users run them.
Current differs from base, deterministically from the seed, by: changed raw_code (~2%, some with
catalog columns added, removed or retyped), changed config (~1%, materialized), changed
descriptions (persist_docs on), added and removed models, a changed macro and a removed source.
``make_project`` returns a summary naming every unique_id it changed, for tests to assert on.

This file is the entry point (the command line, ``make_project`` and ``validate``); the
generator itself is the package bench/artifactgen/ (its ``__init__`` says what each part holds).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import msgspec

# bench/ is on sys.path when this runs as a script; tests load it by file path
# (tests/conftest.py load_bench_module): the generator's parts are in bench/artifactgen/.
_BENCH = str(Path(__file__).resolve().parent)
if _BENCH not in sys.path:
    sys.path.append(_BENCH)

from artifactgen.artifacts import build_catalog, build_manifest, write_json  # noqa: E402
from artifactgen.macros import macros  # noqa: E402
from artifactgen.project import Project  # noqa: E402
from artifactgen.shape import Model  # noqa: E402
from artifactgen.vocab import PKG  # noqa: E402

__all__ = [
    "Model",
    "Project",
    "build_catalog",
    "build_manifest",
    "macros",
    "main",
    "make_project",
    "validate",
    "write_json",
]


def validate(out_dir: Path) -> dict:
    """Re-read the four files and check the graph; return counts per environment."""
    counts = {}
    for env, sub in (("base", "target-base"), ("current", "target")):
        man = msgspec.json.decode((out_dir / sub / "manifest.json").read_bytes())
        cat = msgspec.json.decode((out_dir / sub / "catalog.json").read_bytes())
        graph = {**man["nodes"], **man["sources"], **man["exposures"]}
        assert set(man["parent_map"]) == set(graph) == set(man["child_map"]), "map keys"
        for uid, n in graph.items():
            deps = n.get("depends_on", {})
            assert man["parent_map"][uid] == sorted(deps.get("nodes", [])), f"parent_map[{uid}]"
            assert all(d in graph for d in deps.get("nodes", [])), f"dangling node in {uid}"
            assert all(d in man["macros"] for d in deps.get("macros", [])), f"macro of {uid}"
            for up in deps.get("nodes", []):
                assert uid in man["child_map"][up], f"child_map[{up}] lacks {uid}"
        edges = sum(map(len, man["parent_map"].values()))
        assert sum(map(len, man["child_map"].values())) == edges, "child_map has extra edges"
        for m in man["macros"].values():
            assert all(d in man["macros"] for d in m["depends_on"]["macros"]), m["unique_id"]
        assert set(cat["nodes"]) <= set(man["nodes"]) and set(cat["sources"]) == set(man["sources"])
        kinds: dict[str, int] = {}
        for n in man["nodes"].values():
            kinds[n["resource_type"]] = kinds.get(n["resource_type"], 0) + 1
        counts[env] = {
            **kinds,
            "sources": len(man["sources"]),
            "exposures": len(man["exposures"]),
            "macros": len(man["macros"]),
            "docs": len(man["docs"]),
            "disabled": len(man["disabled"]),
            "catalog_nodes": len(cat["nodes"]),
            "catalog_sources": len(cat["sources"]),
        }
        del man, cat, graph
    return counts


def make_project(out_dir: Path, n_models: int, *, seed: int = 0, check: bool = True) -> dict:
    """Write target-base/ and target/ under out_dir; return what was written and what differs.

    Keys: out_dir, n_models, seed, files ({relative path: bytes}), modified ({"raw_code",
    "config", "description", "macro": [model unique_ids]}), catalog_columns ({unique_id:
    {"added" | "removed" | "type_changed": [column]}}), added, removed, removed_sources,
    changed_macros, generate_seconds, and with check also counts ({env: {kind: n}}) and
    validate_seconds.
    """
    start, out_dir = time.perf_counter(), Path(out_dir)
    p = Project(n_models, seed)
    files = {}
    for env, sub in (("base", "target-base"), ("current", "target")):
        files[f"{sub}/manifest.json"] = write_json(
            out_dir / sub / "manifest.json", build_manifest(p, env)
        )
        files[f"{sub}/catalog.json"] = write_json(
            out_dir / sub / "catalog.json", build_catalog(p, env)
        )
    generated = time.perf_counter() - start
    label = {"added": "added", "removed": "removed", "type": "type_changed"}
    summary = {
        "out_dir": str(out_dir),
        "n_models": n_models,
        "seed": seed,
        "files": files,
        "modified": {
            "raw_code": [m.uid for m in p.models if m.code],
            "config": [m.uid for m in p.models if m.config],
            "description": [m.uid for m in p.models if m.desc],
            "macro": [m.uid for m in p.models if m.macro and m.env == "both"],
        },
        "catalog_columns": {
            m.uid: {label[m.code]: [m.columns("current" if m.code == "added" else "base")[-1][0]]}
            for m in p.models
            if m.code in label
        },
        "added": [m.uid for m in p.models if m.env == "current"],
        "removed": [m.uid for m in p.models if m.env == "base"],
        "removed_sources": [
            f"source.{PKG}.{'.'.join(m.source)}" for m in p.models if m.env == "base" and m.source
        ],
        "changed_macros": [f"macro.{PKG}.cents_to_dollars"],
        "generate_seconds": round(generated, 2),
    }
    if check:
        summary["counts"] = validate(out_dir)
        summary["validate_seconds"] = round(time.perf_counter() - start - generated, 2)
    return summary


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--models", type=int, required=True, help="number of models in base")
    ap.add_argument("--out", type=Path, required=True, help="writes OUT/target-base and OUT/target")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-validate", action="store_true", help="skip re-reading the output")
    args = ap.parse_args(argv)
    s = make_project(args.out, args.models, seed=args.seed, check=not args.no_validate)
    for name, size in s["files"].items():
        print(f"{args.out / name}: {size / 1e6:.1f} MB")
    for env, c in s.get("counts", {}).items():
        print(f"{env}: " + ", ".join(f"{k} {v}" for k, v in c.items()))
    print(
        "modified: "
        + ", ".join(f"{k} {len(v)}" for k, v in s["modified"].items())
        + f"; catalog column changes {len(s['catalog_columns'])}; added {len(s['added'])}; "
        f"removed {len(s['removed'])}; removed sources {len(s['removed_sources'])}"
    )
    print(
        f"generated in {s['generate_seconds']} s"
        + (f", validated in {s['validate_seconds']} s" if "validate_seconds" in s else "")
    )


if __name__ == "__main__":
    main()
