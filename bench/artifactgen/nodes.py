"""A model's and a generic test's manifest node, in either environment."""

from __future__ import annotations

import hashlib
from typing import Any

from .shape import Model
from .sql import ProjectSql
from .vocab import (
    DB,
    DOC_ATTRS,
    PKG,
    TARGET,
    TEST_CONFIG,
    column_entry,
    contract_config,
    docs_config,
    node_config,
    ref_entry,
    short_hash,
    undescribed,
)


class ProjectNodes(ProjectSql):
    """The shape and its SQL, with the model and test nodes rendered."""

    def model_node(self, m: Model, env: str, t: float) -> dict:
        mat, cols = m.materialized(env), m.columns(env)
        raw, (code, ctes) = self.sql(m, env, False), self.compiled(m, env)
        persist = {"relation": True, "columns": True} if m.layer == "marts" else {}
        unrendered: dict[str, Any] = {"materialized": mat, "schema": m.layer}
        if persist:
            unrendered["persist_docs"] = persist
        incremental = {"unique_key": cols[0][0], "on_schema_change": "append_new_columns"}
        if mat == "incremental":
            unrendered.update(incremental)
        yml = f"models/{m.folder}/_{m.folder.split('/')[-1]}__models.yml"
        macros = [f"macro.{PKG}.cents_to_dollars"] if m.macro else []
        macros += ["macro.dbt.is_incremental"] if mat == "incremental" else []
        return {
            "database": DB,
            "schema": f"{TARGET[env]}_{m.layer}",
            "name": m.name,
            "resource_type": "model",
            "package_name": PKG,
            "path": f"{m.folder}/{m.name}.sql",
            "original_file_path": f"models/{m.folder}/{m.name}.sql",
            "unique_id": m.uid,
            "fqn": [PKG, *m.folder.split("/"), m.name],
            "alias": m.name,
            "checksum": {"name": "sha256", "checksum": hashlib.sha256(raw.encode()).hexdigest()},
            "config": node_config(
                schema=m.layer,
                materialized=mat,
                persist_docs=persist,
                **(incremental if mat == "incremental" else {}),
                access="protected",
                freshness=None,
            ),
            "tags": [],
            "description": m.description(env),
            "columns": {
                n: column_entry(n, d, f"doc.{PKG}.{n}" if n in DOC_ATTRS else None)
                for n, _, d in cols[: m.ndoc]
            },
            "meta": {},
            "group": None,
            "docs": docs_config(),
            "patch_path": f"{PKG}://{yml}",
            "build_path": None,
            "unrendered_config": unrendered,
            "created_at": t,
            "relation_name": None if mat == "ephemeral" else self.relation(m.uid, env),
            "raw_code": raw,
            "doc_blocks": [],
            "language": "sql",
            "refs": [ref_entry(p.split(".")[-1]) for p in m.parents],
            "sources": [list(m.source)] if m.source else [],
            "metrics": [],
            "functions": [],
            "depends_on": {
                "macros": macros,
                "nodes": [f"source.{PKG}.{'.'.join(m.source)}"] if m.source else list(m.parents),
            },
            "compiled_path": f"target/compiled/{PKG}/models/{m.folder}/{m.name}.sql",
            "compiled": True,
            "compiled_code": code,
            "extra_ctes_injected": True,
            "extra_ctes": ctes,
            "contract": contract_config(),
            "access": "protected",
            "constraints": [],
            "version": None,
            "latest_version": None,
            "deprecation_date": None,
            "primary_key": [cols[0][0]] if ("unique", cols[0][0], None) in m.tests else [],
            "time_spine": None,
        }

    def test_node(self, m: Model, kind: str, col: str, extra: Any, env: str, t: float) -> dict:
        kwargs: dict[str, Any] = {
            "column_name": col,
            "model": f"{{{{ get_where_subquery(ref('{m.name}')) }}}}",
        }
        rel, refs, deps = self.relation(m.uid, env), [ref_entry(m.name)], [m.uid]
        if kind == "relationships":
            name = f"relationships_{m.name}_{col}__{col}__ref_{extra}_"
            kwargs = {"field": col, "to": f"ref('{extra}')", **kwargs}
            refs, deps = [ref_entry(extra), *refs], [f"model.{PKG}.{extra}", *deps]
            sql = (
                f"with child as (\n    select {col} as from_field\n    from {rel}\n"
                f"    where {col} is not null\n),\n\nparent as (\n    select {col} as to_field\n"
                f"    from {self.relation(deps[0], env)}\n)\n\nselect\n    from_field\n\n"
                "from child\nleft join parent\n    on child.from_field = parent.to_field\n\n"
                "where parent.to_field is null"
            )
        elif kind == "accepted_values":
            name = f"accepted_values_{m.name}_{col}__" + "__".join(extra)
            kwargs = {"values": extra, **kwargs}
            sql = (
                f"with all_values as (\n\n    select\n        {col} as value_field,\n"
                f"        count(*) as n_records\n\n    from {rel}\n    group by {col}\n\n)\n\n"
                "select *\nfrom all_values\nwhere value_field not in (\n    "
                + ",".join(f"'{v}'" for v in extra)
                + "\n)"
            )
        elif kind == "unique":
            name = f"unique_{m.name}_{col}"
            sql = (
                f"select\n    {col} as unique_field,\n    count(*) as n_records\n\nfrom {rel}\n"
                f"where {col} is not null\ngroup by {col}\nhaving count(*) > 1"
            )
        else:
            name, sql = f"not_null_{m.name}_{col}", f"select {col}\nfrom {rel}\nwhere {col} is null"
        long = len(name) >= 64  # dbt shortens long generic test names to a hashed alias
        alias = f"{name[:30]}_{short_hash(name)}" if long else name
        yml = f"models/{m.folder}/_{m.folder.split('/')[-1]}__models.yml"
        raw = f"{{{{ test_{kind}(**_dbt_generic_test_kwargs) }}}}"
        return {
            "database": DB,
            "schema": f"{TARGET[env]}_dbt_test__audit",
            "name": name,
            "resource_type": "test",
            "package_name": PKG,
            "path": f"{alias}.sql",
            "original_file_path": yml,
            "unique_id": f"test.{PKG}.{name}.{short_hash(name, m.uid, n=10)}",
            "fqn": [PKG, *m.folder.split("/"), name],
            "alias": alias,
            "checksum": {"name": "none", "checksum": ""},
            "config": {**TEST_CONFIG, "alias": alias if long else None},
            **undescribed(),
            "unrendered_config": {"alias": alias} if long else {},
            "created_at": t,
            "relation_name": None,
            "raw_code": raw + (f'{{{{ config(alias="{alias}") }}}}' if long else ""),
            "doc_blocks": [],
            "language": "sql",
            "refs": refs,
            "sources": [],
            "metrics": [],
            "functions": [],
            "depends_on": {
                "macros": [f"macro.dbt.test_{kind}", "macro.dbt.get_where_subquery"],
                "nodes": deps,
            },
            "compiled_path": f"target/compiled/{PKG}/{yml}/{alias}.sql",
            "compiled": True,
            "compiled_code": f"\n    \n    \n\n{sql}\n\n\n",
            "extra_ctes_injected": True,
            "extra_ctes": [],
            "contract": contract_config(),
            "column_name": col,
            "file_key_name": f"models.{m.name}",
            "attached_node": m.uid,
            "test_metadata": {"name": kind, "kwargs": kwargs, "namespace": None},
        }
