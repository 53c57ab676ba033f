"""Stand-ins for dbt's cross-database macros (``dbt.*``, ``dbt_utils.*``), so that raw code
rendered without dbt still gives the SQL shape the real macro gives. Only what column lineage
needs: which columns an expression reads, not the exact warehouse syntax."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

_STRINGY = {"bigquery", "spark", "databricks", "hive"}


def _types(dialect: str) -> dict[str, Callable[..., str]]:
    text = "string" if dialect in _STRINGY else "varchar"
    names = {
        "type_string": text,
        "type_timestamp": "timestamp",
        "type_int": "int",
        "type_bigint": "bigint",
        "type_float": "float",
        "type_numeric": "numeric",
        "type_boolean": "boolean",
        "type_json": "variant" if dialect == "snowflake" else "json",
        "type_array": "array",
    }
    return {name: (lambda value=value, *a, **k: value) for name, value in names.items()}


def _fields(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable):
        return [str(v) for v in value]
    return [str(value)]


def cross_database_macros(dialect: str) -> dict[str, Callable[..., str]]:
    """``{macro name: function}``, the same under ``dbt.``, ``dbt_utils.`` and bare."""

    def star(from_: Any = None, relation_alias: Any = False, *args: Any, **kwargs: Any) -> str:
        alias = kwargs.get("relation_alias", relation_alias)
        return f"{alias}.*" if alias else "*"

    macros: dict[str, Callable[..., str]] = {
        **_types(dialect),
        "current_timestamp": lambda *a, **k: "current_timestamp",
        "date_trunc": lambda part, expr: f"date_trunc('{part}', {expr})",
        "dateadd": lambda part, n, expr: f"dateadd({part}, {n}, {expr})",
        "datediff": lambda first, second, part: f"datediff({part}, {first}, {second})",
        "last_day": lambda expr, part="month": f"last_day({expr})",
        "concat": lambda fields: "concat(" + ", ".join(_fields(fields)) + ")",
        "listagg": lambda measure, delimiter_text="','", *a, **k: (
            f"listagg({measure}, {delimiter_text})"
        ),
        "split_part": lambda text, delimiter, part: f"split_part({text}, {delimiter}, {part})",
        "replace": lambda field, old, new: f"replace({field}, {old}, {new})",
        "position": lambda substring, text: f"position({substring} in {text})",
        "safe_cast": lambda field, type_: f"cast({field} as {type_})",
        "cast_bool_to_text": lambda field: f"cast({field} as varchar)",
        "hash": lambda field: f"md5(cast({field} as varchar))",
        "safe_divide": lambda num, den: f"({num}) / nullif({den}, 0)",
        "generate_surrogate_key": lambda fields: "md5(concat(" + ", ".join(_fields(fields)) + "))",
        "surrogate_key": lambda *fields: (
            "md5(concat(" + ", ".join(f for x in fields for f in _fields(x)) + "))"
        ),
        "group_by": lambda n: "group by " + ", ".join(str(i) for i in range(1, int(n) + 1)),
        "star": lambda *a, **k: star(*a, **{"relation_alias": k.get("relation_alias")}),
    }
    return macros
