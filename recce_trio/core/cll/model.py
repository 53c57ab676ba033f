"""Column-level lineage of one model: for each output column, the parent columns it comes from
and how (source, passthrough, renamed, derived, unknown), and the parent columns that decide
which rows the model has (joins, filters, grouping)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, ScopeType, traverse_scope

from recce_trio.core.cll.parse import CllError, Prepared
from recce_trio.core.cll.source import UNKNOWN_MACRO

SOURCE, PASSTHROUGH, RENAMED, DERIVED, UNKNOWN = (
    "source",
    "passthrough",
    "renamed",
    "derived",
    "unknown",
)
_RANK = {SOURCE: 0, PASSTHROUGH: 1, RENAMED: 2, DERIVED: 3, UNKNOWN: 4}
ColumnRef = tuple[str, str]  # (unique_id, column name as the SQL spells it)
# Clauses whose columns decide the rows (Recce's node-level column parents, plus QUALIFY).
_ROW_CLAUSES = ("where", "group", "having", "qualify", "order")


@dataclass(frozen=True, slots=True)
class ColumnLineage:
    kind: str
    parents: frozenset[ColumnRef] = frozenset()


@dataclass(frozen=True, slots=True)
class ModelLineage:
    """``columns`` in output order, keyed by output name as the SQL spells it (after the
    dialect's identifier normalisation). ``error`` is the reason when nothing is known."""

    columns: dict[str, ColumnLineage] = field(default_factory=dict)
    row_parents: frozenset[ColumnRef] = frozenset()
    error: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(slots=True)
class _Col:
    kind: str
    deps: set[ColumnRef]


_UNRESOLVED = _Col(UNKNOWN, set())


def analyse(prepared: Prepared) -> ModelLineage:
    """The lineage of a prepared (qualified) query; raises ``CllError`` only for a query with
    no usable output."""
    walker = _Walker(prepared)
    try:
        root = walker.run()
    except RecursionError:
        raise CllError("the SQL is nested too deeply to analyse") from None
    outputs = walker.outputs[root]
    if not outputs:
        raise CllError("the query has no output columns")
    if root in walker.starred and len(outputs) == 1 and "*" in outputs:
        raise CllError("select * over a relation whose columns are not in the catalog")
    notes = []
    if prepared.unresolved:
        notes.append("tables that are not dbt relations: " + ", ".join(prepared.unresolved[:5]))
    if not prepared.qualified:
        notes.append("qualified without the parents' catalog columns")
    columns = {
        name: ColumnLineage(col.kind, frozenset(col.deps))
        for name, col in outputs.items()
        if name != "*"
    }
    unknown = [name for name, col in columns.items() if col.kind == UNKNOWN]
    if unknown:
        notes.append("columns whose origin sqlglot could not resolve: " + _names(unknown))
    return ModelLineage(columns, frozenset(walker.rows[root]), None, tuple(notes))


class _Walker:
    def __init__(self, prepared: Prepared) -> None:
        self.p = prepared
        self.outputs: dict[Scope, dict[str, _Col]] = {}
        self.rows: dict[Scope, set[ColumnRef]] = {}
        self.starred: set[Scope] = set()
        self.by_expression: dict[int, Scope] = {}

    def run(self) -> Scope:
        root: Scope | None = None
        for scope in traverse_scope(self.p.expression):
            self.by_expression[id(scope.expression)] = scope
            if isinstance(scope.expression, exp.SetOperation):
                self._set_operation(scope)
            elif scope.scope_type == ScopeType.UDTF:
                self._udtf(scope)
            elif isinstance(scope.expression, exp.Select):
                self._select(scope)
            else:
                self.outputs[scope] = {}
                self.rows[scope] = set()
            root = scope
        if root is None:
            raise CllError("the SQL has no SELECT statement")
        return root

    # --- scopes -----------------------------------------------------------------------------

    def _select(self, scope: Scope) -> None:
        select = scope.expression
        assert isinstance(select, exp.Select)
        outputs: dict[str, _Col] = {}
        for projection in select.selects:
            name = projection.alias_or_name
            if isinstance(projection, exp.Star) or (
                isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)
            ):
                self.starred.add(scope)
                outputs["*"] = _Col(UNKNOWN, set())
                continue
            outputs[name] = self._projection(scope, projection, name)
        self.outputs[scope] = outputs
        rows: set[ColumnRef] = set()
        for source in scope.sources.values():
            if isinstance(source, Scope) and not self._ephemeral_uid(source):
                rows |= self.rows.get(source, set())
        for clause in _row_clauses(select):
            rows |= self._collect(scope, clause, outputs).deps
        distinct = select.args.get("distinct")
        if distinct is not None and distinct.args.get("on") is not None:
            rows |= self._collect(scope, distinct.args["on"], outputs).deps
        self.rows[scope] = rows

    def _set_operation(self, scope: Scope) -> None:
        # Set operations line their branches up by position (Recce matches them by name).
        branches = scope.set_operation_scopes
        if not branches:
            self.outputs[scope], self.rows[scope] = {}, set()
            return
        first = list(self.outputs[branches[0]].items())
        others = [list(self.outputs[b].values()) for b in branches[1:]]
        outputs: dict[str, _Col] = {}
        for i, (name, col) in enumerate(first):
            cols = [col] + [o[i] if i < len(o) else _UNRESOLVED for o in others]
            deps = set().union(*(c.deps for c in cols))
            kind = _max(*(c.kind for c in cols), DERIVED if deps else SOURCE)
            outputs[name] = _Col(kind, deps)
        rows: set[ColumnRef] = set().union(*(self.rows[b] for b in branches))
        if not isinstance(scope.expression, exp.Union):  # INTERSECT / EXCEPT filter rows
            for other in others:
                for col in other:
                    rows |= col.deps
        if any(b in self.starred for b in branches):
            self.starred.add(scope)
        self.outputs[scope] = outputs
        self.rows[scope] = rows

    def _udtf(self, scope: Scope) -> None:
        # unnest / explode / lateral flatten: every output comes from the expression's input.
        found = self._collect(scope, scope.expression)
        names = [s.alias_or_name for s in getattr(scope.expression, "selects", [])]
        kind = DERIVED if found.deps else SOURCE
        self.outputs[scope] = {n: _Col(kind, set(found.deps)) for n in names if n}
        self.rows[scope] = set(found.deps)

    # --- expressions ------------------------------------------------------------------------

    def _projection(self, scope: Scope, projection: exp.Expr, name: str) -> _Col:
        inner = projection.this if isinstance(projection, exp.Alias) else projection
        while isinstance(inner, exp.Paren):
            inner = inner.this
        if isinstance(inner, exp.Column) and not isinstance(inner.this, exp.Star):
            ref = self._resolve(scope, inner)
            if ref is None:
                return _Col(UNKNOWN, set())
            kind = ref.kind
            if kind == PASSTHROUGH and name.casefold() != inner.name.casefold():
                kind = RENAMED
            return _Col(kind, set(ref.deps))
        found = self._collect(scope, inner)
        if found.deps:
            return _Col(DERIVED, found.deps)
        return _Col(UNKNOWN if found.kind == UNKNOWN else SOURCE, set())

    def _collect(
        self, scope: Scope, node: exp.Expr, aliases: dict[str, _Col] | None = None
    ) -> _Col:
        """All parent columns under ``node``; kind UNKNOWN if some could not be resolved.
        ``aliases`` are the scope's outputs, which ORDER BY, GROUP BY, HAVING and QUALIFY may
        name."""
        deps: set[ColumnRef] = set()
        unresolved = False
        stack: list[exp.Expr] = [node]
        while stack:
            cur = stack.pop()
            if isinstance(cur, exp.Column):
                if isinstance(cur.this, exp.Star):
                    continue
                ref = self._resolve(scope, cur)
                if ref is None and aliases and not cur.table:
                    ref = aliases.get(cur.name)
                if ref is None or (ref.kind == UNKNOWN and not ref.deps):
                    unresolved = True
                else:
                    deps |= ref.deps
                continue
            if cur is not node and isinstance(cur, exp.Query):
                sub = self.by_expression.get(id(cur))
                if sub is not None:
                    for col in self.outputs.get(sub, {}).values():
                        deps |= col.deps
                    deps |= self.rows.get(sub, set())
                    continue
            stack.extend(_children(cur))
        return _Col(UNKNOWN if unresolved else DERIVED, deps)

    def _resolve(self, scope: Scope, column: exp.Column) -> _Col | None:
        table = column.table
        if column.name.lower() == UNKNOWN_MACRO:
            return None
        if not table:
            # sqlglot leaves a column unqualified when no schema names it; with one source
            # there is only one place it can come from.
            if len(scope.sources) != 1 or scope.pivots:
                return None
            table = next(iter(scope.sources))
        current: Scope | None = scope
        source = None
        while current is not None:  # correlated subqueries reach out to their parents
            source = current.sources.get(table)
            if source is not None:
                break
            current = current.parent
        if source is None or (
            isinstance(source, exp.Table) and any(p.alias == table for p in scope.pivots)
        ):
            return self._pivot_column(scope, table, column.name)
        return self._from_source(scope, source, column.name)

    def _from_source(self, scope: Scope, source: object, name: str) -> _Col | None:
        if isinstance(source, exp.Table):
            if not isinstance(source.this, exp.Identifier):  # a table function
                found = self._collect(scope, source.this)
                return _Col(DERIVED if found.deps else found.kind, found.deps)
            uid = self.p.tables.get(source.name.lower())
            return None if uid is None else _Col(PASSTHROUGH, {(uid, name)})
        if not isinstance(source, Scope):
            return None
        eph = self._ephemeral_uid(source)
        if eph is not None:
            return _Col(PASSTHROUGH, {(eph, name)})
        outputs = self.outputs.get(source, {})
        col = outputs.get(name)
        if col is None:
            folded = name.casefold()
            col = next((c for n, c in outputs.items() if n.casefold() == folded), None)
        return col

    def _pivoted(self, scope: Scope, pivot: exp.Pivot) -> object:
        """The relation a PIVOT/UNPIVOT reads (its alias may hide it from ``scope.sources``)."""
        parent = pivot.parent
        if isinstance(parent, exp.Subquery):
            return self.by_expression.get(id(parent.this))
        if isinstance(parent, exp.Table):
            if parent.name.lower() in self.p.tables or not isinstance(parent.this, exp.Identifier):
                return parent
            current: Scope | None = scope
            while current is not None:
                found = current.cte_sources.get(parent.name)
                if found is not None:
                    return found
                current = current.parent
        return None

    def _pivot_column(self, scope: Scope, table: str, name: str) -> _Col | None:
        """A column of a PIVOT/UNPIVOT's output, named by the operator's alias: passed
        through from the pivoted relation, or derived from the columns the operator reads."""
        for pivot in scope.pivots:
            if pivot.alias != table:
                continue
            source = self._pivoted(scope, pivot)
            before = list(self.outputs.get(source, {})) if isinstance(source, Scope) else []
            try:
                mapping = pivot.output_columns(before)
            except Exception:  # sqlglot cannot name this pivot's columns
                mapping = {}
            origin = mapping.get(name)
            if source is not None and (origin in before or not before):
                passed = self._from_source(scope, source, origin or name)
                if passed is not None:
                    return passed
            deps: set[ColumnRef] = set()
            for node in [*pivot.expressions, *pivot.fields]:
                for col in node.find_all(exp.Column):
                    ref = self._from_source(scope, source, col.name) if source else None
                    if ref is not None:
                        deps |= ref.deps
            return _Col(DERIVED if deps else UNKNOWN, deps)
        return None

    def _ephemeral_uid(self, source: Scope) -> str | None:
        parent = source.expression.parent
        if isinstance(parent, exp.CTE) and self.p.ephemeral:
            return self.p.ephemeral.get(parent.alias_or_name.lower())
        return None


def _names(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _row_clauses(select: exp.Select) -> Iterable[exp.Expr]:
    for key in _ROW_CLAUSES:
        clause = select.args.get(key)
        if clause is not None:
            yield clause
    for join in select.args.get("joins") or ():
        for key in ("on", "using"):
            part = join.args.get(key)
            if isinstance(part, list):
                yield from part
            elif part is not None:
                yield part


def _children(node: exp.Expr) -> Iterable[exp.Expr]:
    for value in node.args.values():
        if isinstance(value, exp.Expr):
            yield value
        elif isinstance(value, list):
            yield from (v for v in value if isinstance(v, exp.Expr))


def _max(*kinds: str) -> str:
    return max(kinds, key=_RANK.__getitem__)
