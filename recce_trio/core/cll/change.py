"""Breaking-change analysis of one model: compare base and current SQL and say whether
downstream rows may change (``breaking``), only some columns (``partial_breaking``), or
nothing that already existed (``non_breaking``), and which columns were added, removed or
modified.

Each side is fingerprinted instead of compared scope by scope in order (Recce's way, which
calls any new CTE breaking): every output column gets a digest of its expression with each
column reference replaced by the digest of what it refers to, through CTEs and subqueries down
to the parents' columns; every scope gets a digest of what decides its rows (sources, joins,
filters, grouping, DISTINCT, LIMIT, set operations, row-multiplying functions). Renaming a CTE,
adding an unused one, reformatting, or moving an expression between CTEs changes no digest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, ScopeType, traverse_scope

from recce_trio.core.cll.parse import Prepared

BREAKING, PARTIAL, NON_BREAKING, UNKNOWN = (
    "breaking",
    "partial_breaking",
    "non_breaking",
    "unknown",
)
ADDED, REMOVED, MODIFIED = "added", "removed", "modified"
# Recce's second vocabulary (request header ``Accept-Vocabulary: v2``).
VOCABULARY_V2 = {
    BREAKING: "model_wide",
    PARTIAL: "column",
    NON_BREAKING: "additive",
    UNKNOWN: "unknown",
}
_UDTF = (exp.Explode, exp.Unnest, exp.Posexplode, exp.ExplodeOuter, exp.Flatten)
_STAR = "*"


@dataclass(frozen=True, slots=True)
class ChangeResult:
    """``columns`` maps a column name to added/removed/modified; None when unknown.
    ``reason`` explains an ``unknown`` (and a breaking verdict that is not about the SQL)."""

    category: str
    columns: dict[str, str] | None
    reason: str | None = None

    def to_wire(self, vocabulary: str = "v1") -> dict[str, object]:
        """Recce's ``change`` object: ``{"category", "columns"}`` (``vocabulary="v2"`` for
        clients that sent ``Accept-Vocabulary: v2``)."""
        category = VOCABULARY_V2[self.category] if vocabulary == "v2" else self.category
        return {"category": category, "columns": self.columns}


def _digest(*parts: str) -> str:
    h = hashlib.blake2b(digest_size=10)
    for part in parts:
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


class Fingerprints:
    """The digests of one side's query."""

    def __init__(self, prepared: Prepared) -> None:
        self.p = prepared
        self.cols: dict[Scope, dict[str, str]] = {}
        self.rows: dict[Scope, str] = {}
        self.by_expression: dict[int, Scope] = {}
        self.root: Scope | None = None
        for scope in traverse_scope(prepared.expression):
            self.by_expression[id(scope.expression)] = scope
            if isinstance(scope.expression, exp.SetOperation):
                self._set_operation(scope)
            elif scope.scope_type == ScopeType.UDTF:
                fp = _digest("udtf", self._expr(scope, scope.expression))
                names = [s.alias_or_name for s in getattr(scope.expression, "selects", [])]
                self.cols[scope] = {n: _digest(fp, n) for n in names}
                self.rows[scope] = fp
            elif isinstance(scope.expression, exp.Select):
                self._select(scope)
            else:
                self.cols[scope], self.rows[scope] = {}, _digest(scope.expression.sql())
            self.root = scope

    def root_columns(self) -> dict[str, str]:
        return self.cols[self.root] if self.root is not None else {}

    def root_rows(self) -> str:
        return self.rows[self.root] if self.root is not None else ""

    def _select(self, scope: Scope) -> None:
        select = scope.expression
        assert isinstance(select, exp.Select)
        cols: dict[str, str] = {}
        multiplying: list[str] = []
        aggregate = select.args.get("group") is not None
        for projection in select.selects:
            inner = projection.this if isinstance(projection, exp.Alias) else projection
            if isinstance(inner, exp.Star) or (
                isinstance(inner, exp.Column) and isinstance(inner.this, exp.Star)
            ):
                cols[_STAR] = _digest("*", *sorted(self._source(scope, s) for s in scope.sources))
                continue
            while isinstance(inner, exp.Paren):
                inner = inner.this
            if isinstance(inner, exp.Column):
                fp = self._column(scope, inner)
            else:
                fp = _digest("expr", self._expr(scope, inner))
                if inner.find(*_UDTF):
                    multiplying.append(fp)
                if not aggregate and _has_aggregate(inner):
                    aggregate = True
            cols[projection.alias_or_name] = fp
        parts = ["select", "agg" if aggregate else ""]
        from_ = select.args.get("from_")
        origin = self._source(scope, from_.this.alias_or_name) if from_ is not None else ""
        parts.append("from:" + origin)
        for join in select.args.get("joins") or ():
            kind = f"{join.side} {join.kind}".strip()
            parts.append(f"join {kind}:" + self._source(scope, join.this.alias_or_name))
            for key in ("on", "using", "method"):
                part = join.args.get(key)
                if isinstance(part, list):
                    parts.extend(self._expr(scope, p) for p in part)
                elif isinstance(part, exp.Expr):
                    parts.append(self._expr(scope, part))
        for lateral in select.args.get("laterals") or ():
            parts.append("lateral:" + self._expr(scope, lateral))
        limited = any(select.args.get(k) is not None for k in ("limit", "offset", "fetch"))
        for key in ("where", "group", "having", "qualify", "limit", "offset", "fetch", "sample"):
            clause = select.args.get(key)
            if clause is not None:
                parts.append(f"{key}:" + self._expr(scope, clause))
        order = select.args.get("order")
        if order is not None and limited:  # without a limit, ORDER BY changes no row
            parts.append("order:" + self._expr(scope, order))
        distinct = select.args.get("distinct")
        if distinct is not None:
            parts.append("distinct:" + self._expr(scope, distinct))
            parts.extend(sorted(cols.values()))  # every column decides which rows are kept
        parts.extend(multiplying)
        self.cols[scope] = cols
        # A select that only picks columns has its source's rows: moving a projection into a
        # CTE, or wrapping a query in one, changes no row.
        simple = not aggregate and len(parts) == 3 and origin
        self.rows[scope] = origin if simple else _digest(*parts)

    def _set_operation(self, scope: Scope) -> None:
        branches = scope.set_operation_scopes
        node = scope.expression
        kind = type(node).__name__ + (" distinct" if node.args.get("distinct") else "")
        first = list(self.cols[branches[0]].items()) if branches else []
        others = [list(self.cols[b].values()) for b in branches[1:]]
        cols = {
            name: _digest("set", fp, *(o[i] if i < len(o) else "?" for o in others))
            for i, (name, fp) in enumerate(first)
        }
        parts = [kind, *(self.rows[b] for b in branches)]
        if node.args.get("distinct") or not isinstance(node, exp.Union):
            parts.extend(cols.values())
        for key in ("limit", "offset", "order"):
            clause = node.args.get(key)
            if clause is not None:
                parts.append(f"{key}:" + clause.sql(dialect=self.p.dialect))
        self.cols[scope] = cols
        self.rows[scope] = _digest(*parts)

    # --- references ---------------------------------------------------------------------

    def _source(self, scope: Scope, alias: str) -> str:
        source = scope.sources.get(alias)
        if isinstance(source, exp.Table):
            uid = self.p.tables.get(source.name.lower())
            return uid or "?" + source.sql(dialect=self.p.dialect)
        if isinstance(source, Scope):
            eph = self._ephemeral(source)
            if eph is not None:
                return eph
            return self.rows.get(source, "?")
        return "?" + alias

    def _column(self, scope: Scope, column: exp.Column) -> str:
        table, name = column.table, column.name
        current: Scope | None = scope
        source = None
        while current is not None and table:
            source = current.sources.get(table)
            if source is not None:
                break
            current = current.parent
        if isinstance(source, exp.Table):
            uid = self.p.tables.get(source.name.lower())
            if uid is not None:
                return f"{uid}.{name.lower()}"
        elif isinstance(source, Scope):
            eph = self._ephemeral(source)
            if eph is not None:
                return f"{eph}.{name.lower()}"
            cols = self.cols.get(source, {})
            fp = cols.get(name)
            if fp is None:
                folded = name.casefold()
                fp = next((v for k, v in cols.items() if k.casefold() == folded), None)
            if fp is not None:
                return fp
            if _STAR in cols:
                return _digest(cols[_STAR], name.lower())
        return "?" + column.sql(dialect=self.p.dialect)

    def _expr(self, scope: Scope, node: exp.Expr) -> str:
        def swap(sub: exp.Expr) -> exp.Expr:
            if isinstance(sub, exp.Column) and not isinstance(sub.this, exp.Star):
                return exp.Var(this="c_" + self._column(scope, sub))
            if sub is not node and isinstance(sub, exp.Query):
                inner = self.by_expression.get(id(sub))
                if inner is not None:
                    digest = _digest(self.rows.get(inner, ""), *self.cols.get(inner, {}).values())
                    return exp.Var(this="q_" + digest)
            return sub

        return node.transform(swap, copy=True).sql(dialect=self.p.dialect, comments=False)

    def _ephemeral(self, source: Scope) -> str | None:
        parent = source.expression.parent
        if isinstance(parent, exp.CTE) and self.p.ephemeral:
            return self.p.ephemeral.get(parent.alias_or_name.lower())
        return None


def _has_aggregate(node: exp.Expr) -> bool:
    return any(not agg.find_ancestor(exp.Window) for agg in node.find_all(exp.AggFunc))


def classify(old: Prepared, new: Prepared) -> ChangeResult:
    """The category and changed columns between two prepared versions of one model."""
    before, after = Fingerprints(old), Fingerprints(new)
    old_cols, new_cols = before.root_columns(), after.root_columns()
    columns: dict[str, str] = {}
    old_folded = {name.casefold(): (name, fp) for name, fp in old_cols.items()}
    new_folded = {name.casefold(): (name, fp) for name, fp in new_cols.items()}
    for key, (name, fp) in new_folded.items():
        if key not in old_folded:
            columns[name] = ADDED
        elif old_folded[key][1] != fp:
            columns[name] = MODIFIED
    for key, (name, _) in old_folded.items():
        if key not in new_folded:
            columns[name] = REMOVED
    if before.root_rows() != after.root_rows():
        category = BREAKING
    elif _STAR in columns:
        category = UNKNOWN
    elif any(v in (REMOVED, MODIFIED) for v in columns.values()):
        category = PARTIAL
    else:
        category = NON_BREAKING
    columns.pop(_STAR, None)
    reason = "select * over a relation without catalog columns" if category == UNKNOWN else None
    return ChangeResult(category, columns, reason)
