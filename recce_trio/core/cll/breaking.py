"""The change category of one modified node (Recce's ``change``: category and columns)."""

from __future__ import annotations

from typing import Any

from recce_trio.core.artifacts.records import Node
from recce_trio.core.cll.cache import CllCache
from recce_trio.core.cll.change import (
    ADDED,
    BREAKING,
    MODIFIED,
    NON_BREAKING,
    PARTIAL,
    REMOVED,
    UNKNOWN,
    ChangeResult,
    classify,
)
from recce_trio.core.cll.parse import CllError
from recce_trio.core.cll.project import SQL_TYPES, Side, model_lineage, prepared_sql
from recce_trio.core.cll.source import model_sql

# Config keys whose change alters which rows an unchanged query leaves in the table.
ROW_CONFIG_KEYS = (
    "unique_key",
    "incremental_strategy",
    "incremental_predicates",
    "pre-hook",
    "post-hook",
    "sql_header",
    "strategy",
    "updated_at",
    "check_cols",
    "invalidate_hard_deletes",
    "hard_deletes",
)


def change_result(base: Side, current: Side, uid: str, cache: CllCache | None) -> ChangeResult:
    """The category of ``uid``, a node present in both environments."""
    key = ("chg", uid, _key(base, uid), _key(current, uid))
    if cache is not None:
        hit = cache.get(key)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
    try:
        result = _compute(base, current, uid)
    except CllError as exc:
        result = ChangeResult(UNKNOWN, None, str(exc))
    except Exception as exc:  # never let a parser error out
        result = ChangeResult(UNKNOWN, None, f"change analysis failed: {type(exc).__name__}")
    if cache is not None:
        cache.put(key, result)
    return result


def _key(side: Side, uid: str) -> str:
    node = side.node(uid)
    if node is None:
        return "-"
    checksum = node.checksum.checksum if node.checksum is not None else ""
    config = repr(sorted((k, repr(node.config.get(k))) for k in ROW_CONFIG_KEYS))
    cols = ",".join(f"{n}:{t}" for n, t in side.columns(uid).items())
    return "|".join((side.sql_key(node), checksum, config, cols, node.relation_name or ""))


def _compute(base: Side, current: Side, uid: str) -> ChangeResult:
    old, new = base.node(uid), current.node(uid)
    if old is None or new is None:
        return ChangeResult(UNKNOWN, None, "the node is not in both environments")
    rtype = new.resource_type or ("source" if uid in current.manifest.sources else "")
    if rtype in SQL_TYPES:
        result = _sql_change(base, current, old, new)
    elif rtype == "seed":
        if any(n.checksum is None or n.checksum.name == "path" for n in (old, new)):
            # dbt hashes a seed file of over 1 MiB by its path only: a change of its rows
            # cannot be seen (Recce's "unknown" for every seed).
            return ChangeResult(UNKNOWN, None, "dbt does not hash this seed's data (over 1 MiB)")
        same = old.checksum == new.checksum
        result = ChangeResult(
            NON_BREAKING if same else BREAKING, {}, None if same else "the seed's data changed"
        )
    elif rtype == "source":
        moved = _relation(old) != _relation(new)
        result = ChangeResult(
            BREAKING if moved else NON_BREAKING,
            {},
            "the source points at another table" if moved else None,
        )
    else:
        return ChangeResult(UNKNOWN, None, f"a {rtype or 'node'} has no SQL to compare")
    if result.category == UNKNOWN or result.columns is None:
        return result
    return _with_catalog(base, current, uid, result)


def _relation(node: Node) -> tuple[str, ...]:
    parts = (node.database, node.schema, node.identifier or node.name)
    return tuple((p or "").lower() for p in parts)


def _sql_change(base: Side, current: Side, old: Node, new: Node) -> ChangeResult:
    for node in (old, new):
        if (node.language or "sql") != "sql":
            return ChangeResult(UNKNOWN, None, f"a {node.language} model has no SQL to compare")
    compiled = bool(old.compiled_code and new.compiled_code)
    old_src = model_sql(old, base.manifest, prefer_compiled=compiled, dialect=base.dialect)
    new_src = model_sql(new, current.manifest, prefer_compiled=compiled, dialect=current.dialect)
    if old_src.sql is None or new_src.sql is None:
        return ChangeResult(UNKNOWN, None, old_src.reason or new_src.reason)
    if old_src.sql.strip() == new_src.sql.strip() and base.dialect == current.dialect:
        result = ChangeResult(NON_BREAKING, {})
    else:
        before = prepared_sql(base, old, prefer_compiled=compiled)
        after = prepared_sql(current, new, prefer_compiled=compiled)
        result = classify(before, after)  # reads the parsed queries, changes neither
        if compiled:  # the query the node's lineage reads: analysed now, not parsed again
            model_lineage(current, new, current.cache, prepared=after)
    if result.category in (NON_BREAKING, PARTIAL):
        changed = [k for k in ROW_CONFIG_KEYS if old.config.get(k) != new.config.get(k)]
        if changed:
            reason = "changed config: " + ", ".join(changed)
            return ChangeResult(BREAKING, result.columns, reason)
    return result


def _with_catalog(base: Side, current: Side, uid: str, result: ChangeResult) -> ChangeResult:
    """Add the catalog's column changes the SQL did not show (a ``select *`` whose parent
    changed, a type change), spell every column as the catalog does, and leave out the SQL's
    columns that neither catalog has (when one has the node)."""
    old_cols, new_cols = base.columns(uid), current.columns(uid)
    columns = dict(result.columns or {})
    if old_cols and new_cols:
        seen = {name.casefold() for name in columns}
        for name, ctype in new_cols.items():
            if name.casefold() in seen:
                continue
            before = _lookup(old_cols, name)
            if before is None:
                columns[name] = ADDED
            elif before[1] != ctype:
                columns[name] = MODIFIED
        for name in old_cols:
            if name.casefold() not in seen and _lookup(new_cols, name) is None:
                columns[name] = REMOVED
    spelled: dict[str, str] = {}
    for name, status in columns.items():
        where = old_cols if status == REMOVED else new_cols
        found = _lookup(where, name) or _lookup(old_cols, name) or _lookup(new_cols, name)
        if found is None and (old_cols or new_cols):
            continue  # not a column of the node as either catalog knows it (as Recce)
        spelled[found[0] if found else name] = status
    category = result.category
    if category == NON_BREAKING and any(s in (REMOVED, MODIFIED) for s in spelled.values()):
        category = PARTIAL
    return ChangeResult(category, spelled, result.reason)


def _lookup(columns: dict[str, Any], name: str) -> tuple[str, Any] | None:
    if name in columns:
        return name, columns[name]
    folded = name.casefold()
    for key, value in columns.items():
        if key.casefold() == folded:
            return key, value
    return None
