"""One environment's manifest.json and catalog.json, and writing them as dbt does."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import msgspec

from .macros import macros
from .project import Project
from .vocab import ATTRS, CLOCK, DB, DBT_VERSION, PKG, STATS, TARGET, short_hash


def _stamp(ts: float, suffix: str = "Z") -> str:
    micros = round(ts * 1e6) % 10**6
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{micros:06d}{suffix}"


def build_manifest(p: Project, env: str) -> dict:
    t, nodes, sources = CLOCK[env], {}, {}
    for i, s in enumerate(p.seeds):
        nodes[f"seed.{PKG}.{s}"] = p.seed_node(s, env, t + i * 1e-3)
    live = [m for m in p.models if p.exists(m, env)]
    for m in live:
        nodes[m.uid] = p.model_node(m, env, t + 5 + m.idx * 1e-3)
    for m in live:
        for kind, col, extra in m.tests:
            node = p.test_node(m, kind, col, extra, env, t + 9 + m.idx * 1e-3)
            nodes[node["unique_id"]] = node
    for m in live:
        if m.source:
            sources[f"source.{PKG}.{'.'.join(m.source)}"] = p.source_node(m, t + 12 + m.idx * 1e-3)
    exposures = {f"exposure.{PKG}.{n}": p.exposure_node(n, deps, t + 14) for n, deps in p.exposures}
    docs = {
        f"doc.{PKG}.{n}": {
            "name": n,
            "resource_type": "doc",
            "package_name": PKG,
            "path": "docs/columns.md",
            "original_file_path": "models/docs/columns.md",
            "unique_id": f"doc.{PKG}.{n}",
            "block_contents": d,
        }
        for n, _, d in ATTRS
    }
    docs["doc.dbt.__overview__"] = {
        "name": "__overview__",
        "resource_type": "doc",
        "package_name": "dbt",
        "path": "overview.md",
        "original_file_path": "docs/overview.md",
        "unique_id": "doc.dbt.__overview__",
        "block_contents": "### Welcome!\n\nThis is the documentation of the acme dbt project.\n\n"
        "Browse models with the Project and Database tabs, and follow their "
        "dependencies in the lineage graph.",
    }
    parent_map = {
        uid: sorted(n.get("depends_on", {}).get("nodes", []))
        for uid, n in (*nodes.items(), *sources.items(), *exposures.items())
    }
    child_map: dict[str, list] = {uid: [] for uid in parent_map}
    for uid, ups in parent_map.items():
        for up in ups:
            child_map[up].append(uid)
    for kids in child_map.values():
        kids.sort()
    return {
        "metadata": {
            "dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json",
            "dbt_version": DBT_VERSION,
            "generated_at": _stamp(t + 20),
            "invocation_id": str(uuid.UUID(short_hash(p.seed, env))),
            "invocation_started_at": _stamp(t - 30, "+00:00"),
            "env": {},
            "project_name": PKG,
            "project_id": short_hash(PKG),
            "user_id": None,
            "send_anonymous_usage_stats": False,
            "adapter_type": "postgres",
            "quoting": {"database": True, "schema": True, "identifier": True, "column": None},
            "run_started_at": _stamp(t - 29.9997, "+00:00"),
        },
        "nodes": nodes,
        "sources": sources,
        "macros": macros(env, t - 3),
        "docs": docs,
        "exposures": exposures,
        "metrics": {},
        "groups": {},
        "selectors": {},
        "disabled": p.disabled(env, t + 2),
        "parent_map": parent_map,
        "child_map": child_map,
        "group_map": {},
        "saved_queries": {},
        "semantic_models": {},
        "unit_tests": {},
        "functions": {},
    }


def build_catalog(p: Project, env: str) -> dict:
    def table(
        uid: str, schema: str, name: str, kind: str, cols: list, comment: str | None, ndoc: int
    ) -> dict:
        return {
            "metadata": {
                "type": kind,
                "schema": schema,
                "name": name,
                "database": DB,
                "comment": comment,
                "owner": "dbt",
            },
            "columns": {
                n: {"type": t, "index": i + 1, "name": n, "comment": d if i < ndoc else None}
                for i, (n, t, d) in enumerate(cols)
            },
            "stats": STATS,
            "unique_id": uid,
        }

    nodes, sources = {}, {}
    seed_cols = [
        ("id", "integer"),
        ("code", "text"),
        ("label", "text"),
        ("sort_order", "integer"),
        ("is_active", "boolean"),
    ]
    for s in p.seeds:
        uid = f"seed.{PKG}.{s}"
        nodes[uid] = table(
            uid, f"{TARGET[env]}_seeds", s, "BASE TABLE", [(*c, "") for c in seed_cols], None, 0
        )
    for m in p.models:
        if not p.exists(m, env):
            continue
        if m.source:
            uid = f"source.{PKG}.{'.'.join(m.source)}"
            sources[uid] = table(uid, *m.source, "BASE TABLE", p.source_cols(m), None, 0)
        mat, persist = m.materialized(env), m.layer == "marts"  # persist_docs -> comments
        if mat != "ephemeral":
            nodes[m.uid] = table(
                m.uid,
                f"{TARGET[env]}_{m.layer}",
                m.name,
                "VIEW" if mat == "view" else "BASE TABLE",
                m.columns(env),
                m.description(env) if persist else None,
                m.ndoc if persist else 0,
            )
    t = CLOCK[env] + 27
    return {
        "metadata": {
            "dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json",
            "dbt_version": DBT_VERSION,
            "generated_at": _stamp(t),
            "invocation_id": str(uuid.UUID(short_hash(p.seed, env))),
            "invocation_started_at": _stamp(t - 7),
            "env": {},
        },
        "nodes": nodes,
        "sources": sources,
        "errors": None,
    }


def write_json(path: Path, obj: dict) -> int:
    """Write as dbt does (json.dumps defaults: ", " and ": " separators, no indent)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = msgspec.json.format(msgspec.json.encode(obj), indent=0)
    path.write_bytes(data)
    return len(data)
