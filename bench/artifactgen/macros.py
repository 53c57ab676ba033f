"""About 600 macro nodes, as dbt-postgres plus dbt_utils bring, and the project's."""

from __future__ import annotations

import random
from typing import Any

from .macro_sql import (
    CENTS,
    CORE,
    GENERIC_TESTS,
    IMPL,
    MATERIALIZATION,
    OBJECTS,
    PROJECT_MACROS,
    UTILS,
    VERBS,
)
from .vocab import PKG, docs_config


def macros(env: str, t: float) -> dict:
    """About 600 macros, as dbt-postgres plus dbt_utils bring; cents_to_dollars differs by env."""
    out: dict[str, dict] = {}

    def add(pkg: str, name: str, path: str, sql: str, deps: list, langs: Any = None) -> None:
        uid = f"macro.{pkg}.{name}"
        out[uid] = {
            "name": name,
            "resource_type": "macro",
            "package_name": pkg,
            "path": path,
            "original_file_path": path,
            "unique_id": uid,
            "macro_sql": sql,
            "depends_on": {"macros": deps},
            "description": "",
            "meta": {},
            "docs": docs_config(),
            "config": {"meta": {}, "docs": docs_config()},
            "patch_path": None,
            "arguments": [],
            "created_at": t + len(out) * 1e-4,
            "supported_languages": langs,
        }

    def family(pkg: str, name: str, path: str, i: int, postgres: bool) -> None:
        """A dispatching macro, its default__ implementation and maybe a postgres__ one."""
        args = [
            "relation",
            "relation, sql",
            "from_relation, to_relation",
            "columns, quote=true",
            "model, config",
        ][i % 5]
        impl = (
            f"macro.dbt_postgres.postgres__{name}" if postgres else f"macro.{pkg}.default__{name}"
        )
        call = args.replace("=true", "")
        add(
            pkg,
            name,
            path,
            f"{{% macro {name}({args}) -%}}\n  {{{{ return(adapter.dispatch("
            f"'{name}', '{pkg}')({call})) }}}}\n{{%- endmacro %}}",
            [impl],
        )
        body = IMPL[i % 3].replace("@A@", args).replace("@R@", args.split(",")[0])
        deps = ["macro.dbt.statement"] if i % 3 == 0 else []
        add(pkg, f"default__{name}", path, body.replace("@N@", f"default__{name}"), deps)
        if postgres:
            add(
                "dbt_postgres",
                f"postgres__{name}",
                "macros/adapters.sql",
                body.replace("@N@", f"postgres__{name}"),
                deps,
            )

    for name, (path, sql, deps) in CORE.items():
        add("dbt", name, path, sql, deps)
    for kind, sql in GENERIC_TESTS.items():
        args = "model, column_name" + {
            "accepted_values": ", values",
            "relationships": ", to, field",
        }.get(kind, "")
        add(
            "dbt",
            f"test_{kind}",
            "tests/generic/builtin.sql",
            f"{{% test {kind}({args}) %}}\n    {{% set macro = adapter.dispatch('test_{kind}', "
            f"'dbt') %}}\n    {{{{ macro({args}) }}}}\n{{% endtest %}}",
            [f"macro.dbt.default__test_{kind}"],
        )
        add(
            "dbt",
            f"default__test_{kind}",
            f"macros/generic_test_sql/{kind}.sql",
            f"{{% macro default__test_{kind}({args}) %}}\n\n{{% set column_list = '*' if "
            f"should_store_failures() else column_name %}}\n\n{sql}\n\n{{% endmacro %}}",
            ["macro.dbt.should_store_failures"],
        )
    for kind in [
        "table",
        "view",
        "incremental",
        "seed",
        "snapshot",
        "test",
        "unit",
        "materialized_view",
        "clone",
    ]:
        add(
            "dbt",
            f"materialization_{kind}_default",
            f"macros/materializations/{kind}.sql",
            MATERIALIZATION.replace("@N@", kind),
            ["macro.dbt.statement"],
            ["sql"],
        )
    pairs = [f"{v}_{o}" for o in OBJECTS for v in VERBS]
    random.Random(1).shuffle(pairs)
    for i, name in enumerate(pairs[:205]):
        family("dbt", name, f"macros/adapters/{name.split('_', 1)[1]}.sql", i, i % 4 == 0)
    for i, name in enumerate(UTILS):
        family("dbt_utils", name, f"macros/sql/{name}.sql", i, False)
    add(
        PKG,
        "cents_to_dollars",
        "macros/cents_to_dollars.sql",
        "{% macro cents_to_dollars(column_name, scale=2) -%}\n    "
        + CENTS[env]
        + "\n{%- endmacro %}",
        [],
    )
    for name, sql in PROJECT_MACROS.items():
        add(PKG, name, f"macros/{name}.sql", sql, [])
    return out
