"""Every manifest and catalog in the shared corpus decodes, and keeps what dbt wrote in it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from recce_trio.core.artifacts import decode_catalog, decode_manifest, read_catalog, read_manifest

SHARED = Path(__file__).resolve().parents[2].parent / "shared/corpus"
DBT_ARTIFACTS = SHARED / "dbt-artifacts"
RECCE_STATE = SHARED / "recce-state"

pytestmark = pytest.mark.corpus


def corpus_files(folder: Path, name: str) -> list[Any]:
    if not folder.is_dir():
        reason = f"corpus not found at {folder} (it lives beside the repository in shared/)"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="no-corpus")]
    paths = sorted(folder.glob(f"*/{name}")) + sorted(folder.glob(f"*/base/{name}"))
    return [pytest.param(p, id=str(p.relative_to(folder))) for p in paths]


def schema_version(raw: dict[str, Any]) -> int:
    url = (raw.get("metadata") or {}).get("dbt_schema_version")
    return 0 if url is None else int(url.rsplit("/v", 1)[1].removesuffix(".json"))


@pytest.mark.parametrize("path", corpus_files(DBT_ARTIFACTS, "manifest.json"))
def test_manifest(path: Path) -> None:
    raw = json.loads(path.read_bytes())
    manifest = read_manifest(path)

    assert manifest.schema_version == schema_version(raw)
    # Before dbt 0.17, sources sat among the nodes; the reader moves them to sources.
    raw_nodes = {k: v for k, v in raw["nodes"].items() if v.get("resource_type") != "source"}
    raw_sources = dict(raw.get("sources") or {})
    raw_sources.update((k, v) for k, v in raw["nodes"].items() if k not in raw_nodes)
    assert manifest.nodes.keys() == raw_nodes.keys()
    assert manifest.sources.keys() == raw_sources.keys()
    for section in ("exposures", "metrics", "semantic_models", "saved_queries", "unit_tests"):
        assert len(getattr(manifest, section)) == len(raw.get(section) or {}), section
    assert len(manifest.macros) == len(raw["macros"])

    for uid, raw_node in raw_nodes.items():
        node = manifest.nodes[uid]
        assert node.resource_type == raw_node["resource_type"]
        assert node.name == raw_node["name"]
        code = raw_node.get("raw_code", raw_node.get("raw_sql"))
        if raw_node["resource_type"] == "model" and code is not None:
            assert node.raw_code == code, uid
        compiled = raw_node.get("compiled_code", raw_node.get("compiled_sql"))
        if raw_node["resource_type"] in ("model", "snapshot"):
            assert node.compiled_code == compiled, uid
        if raw_node["resource_type"] == "test" and raw_node.get("test_metadata"):
            # Generic tests are kept slim: graph place, marked column, what state:modified uses.
            column = (raw_node["test_metadata"].get("kwargs") or {}).get("column_name")
            if isinstance(column, str):
                assert node.test_metadata is not None
                assert node.test_metadata.kwargs == {"column_name": column}
            assert node.config == {} and node.raw_code is None
            assert node.fqn == raw_node["fqn"]
            severity = (raw_node.get("unrendered_config") or {}).get("severity")
            assert node.unrendered_config.get("severity") == severity
        elif raw_node.get("checksum"):
            assert node.checksum is not None
            assert node.checksum.checksum == raw_node["checksum"]["checksum"]
        raw_parents = (raw_node.get("depends_on") or {}).get("nodes", [])
        assert node.depends_on.nodes == [p for p in raw_parents if p is not None]


@pytest.mark.parametrize("path", corpus_files(DBT_ARTIFACTS, "catalog.json"))
def test_catalog(path: Path) -> None:
    raw = json.loads(path.read_bytes())
    catalog = read_catalog(path)

    assert catalog.schema_version == schema_version(raw)
    raw_tables = {**raw["nodes"], **(raw.get("sources") or {})}
    tables = {**catalog.nodes, **catalog.sources}
    assert tables.keys() == raw_tables.keys()
    for uid, raw_table in raw_tables.items():
        columns = tables[uid].columns
        assert len(columns) == len(raw_table["columns"]), uid
        assert [c.type for c in columns.values()] == [
            c.get("type") for c in raw_table["columns"].values()
        ]


def recce_state_artifacts() -> list[Any]:
    params = []
    for param in corpus_files(RECCE_STATE, "recce_state.json"):
        path = param.values[0]
        if path is None:  # no corpus: keep the skip, with one value per argument
            return [pytest.param(None, None, None, marks=param.marks, id=param.id)]
        for env in ("base", "current"):
            for kind in ("manifest", "catalog"):
                params.append(pytest.param(path, env, kind, id=f"{param.id}:{env}.{kind}"))
    return params


@pytest.mark.parametrize(("path", "env", "kind"), recce_state_artifacts())
def test_recce_state_embedded_artifact(path: Path, env: str, kind: str) -> None:
    # Recce re-serialises dbt's artifacts into its state file; they must still decode.
    raw = json.loads(path.read_bytes())["artifacts"][env][kind]
    data = json.dumps(raw).encode()
    where = f"{path}#artifacts.{env}.{kind}"
    if kind == "manifest":
        manifest = decode_manifest(data, path=where)
        assert manifest.schema_version == schema_version(raw)
        assert manifest.nodes.keys() == raw["nodes"].keys()
        assert manifest.sources.keys() == raw["sources"].keys()
    else:
        catalog = decode_catalog(data, path=where)
        assert catalog.nodes.keys() == raw["nodes"].keys()
        assert catalog.sources.keys() == raw["sources"].keys()
