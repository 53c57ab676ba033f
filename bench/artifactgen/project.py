"""``Project``: the generated project, every node of either environment's manifest.

The models' and tests' nodes come from ``ProjectNodes``; here are the seeds, the sources (with
their raw columns), the exposures and the two disabled singular tests.
"""

from __future__ import annotations

import hashlib

from .nodes import ProjectNodes
from .shape import Model
from .vocab import (
    DB,
    PKG,
    TARGET,
    TEST_CONFIG,
    column_entry,
    contract_config,
    node_config,
    raw_column,
    ref_entry,
    undescribed,
)


class Project(ProjectNodes):
    """The shape of the project (DAG, columns, tests, changes); renders either environment."""

    def seed_node(self, name: str, env: str, t: float) -> dict:
        return {
            "database": DB,
            "schema": f"{TARGET[env]}_seeds",
            "name": name,
            "resource_type": "seed",
            "package_name": PKG,
            "path": f"{name}.csv",
            "original_file_path": f"seeds/{name}.csv",
            "unique_id": f"seed.{PKG}.{name}",
            "fqn": [PKG, name],
            "alias": name,
            "checksum": {"name": "sha256", "checksum": hashlib.sha256(name.encode()).hexdigest()},
            "config": node_config(
                schema="seeds", materialized="seed", delimiter=",", quote_columns=None
            ),
            **undescribed(),
            "unrendered_config": {"schema": "seeds"},
            "created_at": t,
            "relation_name": self.relation(f"seed.{PKG}.{name}", env),
            "raw_code": "",
            "doc_blocks": [],
            "root_path": f"/home/runner/work/{PKG}/{PKG}",
            "depends_on": {"macros": []},
        }

    def source_cols(self, m: Model) -> list:
        cols = m.columns("current") if m.code == "added" else m.cols
        pk = ("id", "integer", "Primary key of the raw record.")
        return [pk, *((raw_column(n), t, d) for n, t, d in cols[1:])]

    def source_node(self, m: Model, t: float) -> dict:
        (system, table), yml = m.source, f"models/staging/{m.source[0]}/_{m.source[0]}__sources.yml"
        fresh = {
            "warn_after": {"count": 24, "period": "hour"},
            "error_after": {"count": 48, "period": "hour"},
            "filter": None,
        }
        common = {
            "loaded_at_field": "_fivetran_synced",
            "enabled": True,
            "freshness": fresh,
            "loaded_at_query": None,
            "meta": {},
            "tags": [],
        }
        return {
            "database": DB,
            "schema": system,
            "name": table,
            "resource_type": "source",
            "package_name": PKG,
            "path": yml,
            "original_file_path": yml,
            "unique_id": f"source.{PKG}.{system}.{table}",
            "fqn": [PKG, "staging", system, system, table],
            "source_name": system,
            "source_description": f"Raw {system} data, replicated hourly by Fivetran.",
            "loader": "fivetran",
            "identifier": table,
            "quoting": {"database": None, "schema": None, "identifier": None, "column": None},
            "loaded_at_field": "_fivetran_synced",
            "loaded_at_query": None,
            "freshness": fresh,
            "external": None,
            "description": f"One record per {m.entity.replace('_', ' ')} in {system}, as loaded.",
            "columns": {
                n: column_entry(n, d) for n, _, d in self.source_cols(m)[: m.ndoc // 2 + 1]
            },
            "meta": {},
            "source_meta": {},
            "tags": [],
            "config": {
                "enabled": True,
                "event_time": None,
                "freshness": fresh,
                "loaded_at_field": "_fivetran_synced",
                "loaded_at_query": None,
                "meta": {},
                "tags": [],
                "static_analysis": None,
            },
            "patch_path": None,
            "unrendered_config": common,
            "relation_name": f'"{DB}"."{system}"."{table}"',
            "created_at": t,
            "unrendered_database": None,
            "unrendered_schema": None,
            "doc_blocks": [],
        }

    def exposure_node(self, name: str, deps: list, t: float) -> dict:
        return {
            "name": name,
            "resource_type": "exposure",
            "package_name": PKG,
            "path": "exposures/_exposures.yml",
            "original_file_path": "models/exposures/_exposures.yml",
            "unique_id": f"exposure.{PKG}.{name}",
            "fqn": [PKG, "exposures", name],
            "type": "dashboard",
            "owner": {"email": "analytics@acme.example", "name": "Analytics Engineering"},
            "description": f"Looker dashboard '{name}', refreshed every morning.",
            "label": name.replace("_", " ").title(),
            "maturity": "high",
            "meta": {},
            "tags": [],
            "config": {"enabled": True, "tags": [], "meta": {}},
            "unrendered_config": {},
            "url": f"https://looker.acme.example/dashboards/{name}",
            "depends_on": {"macros": [], "nodes": deps},
            "refs": [ref_entry(d.split(".")[-1]) for d in deps],
            "sources": [],
            "metrics": [],
            "functions": [],
            "created_at": t,
        }

    def disabled(self, env: str, t: float) -> dict:
        """Two singular tests switched off with enabled=false: dbt keeps them under "disabled"."""
        out = {}
        for name in ("assert_revenue_reconciles_with_ledger", "assert_no_orphan_payments"):
            uid = f"test.{PKG}.{name}"
            raw = (
                "{{ config(enabled=false) }}\n\nselect *\n"
                "from {{ target.schema }}_marts.ledger_entries\nwhere amount is null"
            )
            out[uid] = [
                {
                    "database": DB,
                    "schema": f"{TARGET[env]}_dbt_test__audit",
                    "name": name,
                    "resource_type": "test",
                    "package_name": PKG,
                    "path": f"{name}.sql",
                    "original_file_path": f"tests/{name}.sql",
                    "unique_id": uid,
                    "fqn": [PKG, name],
                    "alias": name,
                    "checksum": {
                        "name": "sha256",
                        "checksum": hashlib.sha256(raw.encode()).hexdigest(),
                    },
                    "config": {**TEST_CONFIG, "enabled": False},
                    **undescribed(),
                    "unrendered_config": {"enabled": False},
                    "created_at": t,
                    "relation_name": None,
                    "raw_code": raw,
                    "doc_blocks": [],
                    "language": "sql",
                    "refs": [],
                    "sources": [],
                    "metrics": [],
                    "functions": [],
                    "depends_on": {"macros": [], "nodes": []},
                    "compiled_path": None,
                    "contract": contract_config(),
                }
            ]
        return out
