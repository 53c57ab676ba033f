"""dbt's node selection (``--select``/``--exclude`` grammar, methods, graph operators) over the
graph Recce builds from the current manifest plus the nodes only the base manifest has."""

from recce_trio.core.selector.grammar import Criterion, SelectorError, parse_criterion, parse_union
from recce_trio.core.selector.graph import SelectionGraph

__all__ = [
    "Criterion",
    "SelectionGraph",
    "SelectorError",
    "parse_criterion",
    "parse_union",
]
