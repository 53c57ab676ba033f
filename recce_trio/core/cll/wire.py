"""``/api/cll`` answers as JSON bytes: ``{"current": CllData}``.

``cll_json`` is what the server sends. The answer a page asks for most, a node's lineage up
and down (``node_id``, optionally ``column``; no change analysis), is put together from JSON
pieces once the whole map is built and ``prepare`` has run over it (``WireIndex``): the
project-wide edge index with a number for each node and column id, and each id, column
object, node object (but its ``columns``) and whole ``parent_map``/``child_map`` entry
encoded once. A request walks the numbered index, picks the pieces and joins them; it
builds no dict per column and encodes no column again. Any other answer (change analysis,
``no_cll``, the changed nodes, or before ``prepare``) is ``cll_data`` encoded. Both give the
same JSON (``tests/unit/test_cll_wire.py`` compares them node by node and column by column).
"""

from __future__ import annotations

import threading
import weakref
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from itertools import compress, groupby
from operator import not_

import msgspec

from recce_trio.core.cll.api import cll_data
from recce_trio.core.cll.graph import CllProject, Edges, column_object

__all__ = ["WireIndex", "cll_json", "prepare", "prepared"]

_encode = msgspec.json.Encoder().encode
_TAIL = b'},"impacted":null}'


class WireIndex:
    """One project's numbered edge index and encoded pieces (immutable once built).

    Numbers run so that sorting numbers sorts an answer: node ids first, in sorted order;
    then the column ids that a node has (``CllProject.owner``), by node and by position in
    the node (cll_data's order of ``columns``); then the ids no node has. ``up``/``down``
    are the index's parent and child ids by number; ``nup``/``ndown`` the lineage graph's
    (nodes only).
    """

    def __init__(self, project: CllProject) -> None:
        pmap, cmap = project.index or ({}, {})
        parents, children = project.graph()
        node_ids = sorted(parents)
        self.nodes = len(node_ids)
        ids = list(node_ids)
        num = {uid: i for i, uid in enumerate(node_ids)}
        owner_of = [-1] * len(ids)
        # b'"<name>":{column object}' and b'"<column id>":{column object}' by number.
        self.named: list[bytes] = [b""] * len(ids)
        self.keyed: list[bytes] = [b""] * len(ids)
        self.heads: list[bytes] = []
        self.bare: list[bytes] = []
        for n, uid in enumerate(node_ids):
            quoted = _encode(uid)
            self.heads.append(_head(project, uid, quoted))
            self.bare.append(self.heads[-1] + _TAIL)
            edges = project.edges(uid)
            for col in edges.columns if edges is not None else ():
                cid = f"{uid}_{col.name}"
                if cid in num or project.owner(cid) != uid or cid not in pmap:
                    continue  # a node id, or a longer node's column
                obj = _encode(column_object(uid, cid, col))
                num[cid] = len(ids)
                ids.append(cid)
                owner_of.append(n)
                self.named.append(_encode(col.name) + b":" + obj)
                self.keyed.append(_encode(cid) + b":" + obj)
        self.owned_end = len(ids)
        for key in (*pmap, *cmap):
            if key not in num:
                num[key] = len(ids)
                ids.append(key)
        self.ids, self.num, self.owner_of = ids, num, owner_of
        # A node's columns (its own and those a longer node id spells the same), by number.
        self.node_columns: list[tuple[int, ...]] = []
        number_of = num.get
        for uid in node_ids:
            edges = project.edges(uid)
            cols = map(number_of, [f"{uid}_{c.name}" for c in (edges.columns if edges else ())])
            self.node_columns.append(tuple([c for c in cols if c is not None]))
        number = num.__getitem__

        def numbered(edges: Edges, keys: Iterable[str]) -> list[tuple[int, ...]]:
            get = edges.get
            return [tuple(map(number, get(k, ()))) for k in keys]

        self.up, self.down = numbered(pmap, ids), numbered(cmap, ids)
        self.nup, self.ndown = numbered(parents, node_ids), numbered(children, node_ids)
        self.regular = _regular(self)
        self.quoted = quoted_ids = list(map(_encode, ids))
        self.opening = [q + b":[" for q in quoted_ids]  # a filtered map entry's start
        # The whole entry of each id: its quoted id, a colon, and its parents (children).
        colon, up_get, down_get = b":".join, pmap.get, cmap.get
        self.up_whole = [
            colon((q, _encode(up_get(k, ())))) for q, k in zip(quoted_ids, ids, strict=True)
        ]
        self.down_whole = [
            colon((q, _encode(down_get(k, ())))) for q, k in zip(quoted_ids, ids, strict=True)
        ]


def _regular(index: WireIndex) -> bool:
    """Whether every edge of the index stays within the lineage graph: from an id owned by
    node ``o`` (a node owns itself) to ids owned by ``o`` or by a parent (child) of ``o``,
    and no id that no node owns has edges. Then whatever an answer's walks reach from a
    node's ids is owned by that node or by its ancestors (descendants), the nodes of
    Recce's pool, and the answer need not walk the node graph to check it (``_node_answer``).
    """
    owned_end, owner_of = index.owned_end, index.owner_of
    for o, columns in enumerate(index.node_columns):
        if any(owner_of[c] != o for c in columns):
            return False  # a node's column id that a longer node id spells the same
    for edges, graph in ((index.up, index.nup), (index.down, index.ndown)):
        near = [frozenset((o, *found)) for o, found in enumerate(graph)]
        for i, found in enumerate(edges):
            if not found:
                continue
            if i >= owned_end:
                return False
            allowed = near[_owner(index, i)]
            if any(j >= owned_end or _owner(index, j) not in allowed for j in found):
                return False
    return True


def _owner(index: WireIndex, i: int) -> int:
    """The node that owns id number ``i`` (below ``owned_end``): a node owns itself."""
    return i if i < index.nodes else index.owner_of[i]


def _head(project: CllProject, uid: str, quoted: bytes) -> bytes:
    """``"<uid>":{"id": ..., "change_category":null,"columns":{`` (no change analysis)."""
    node = project.current.node(uid)
    assert node is not None
    obj = {
        "id": uid,
        "name": node.name,
        "package_name": node.package_name,
        "resource_type": node.resource_type or "source",
        "source_name": node.source_name,
        "change_status": None,
        "change_category": None,
    }
    return quoted + b":" + _encode(obj)[:-1] + b',"columns":{'


_indexes: weakref.WeakKeyDictionary[CllProject, WireIndex] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def prepare(project: CllProject) -> WireIndex | None:
    """Build (once) the project's ``WireIndex``; None before the project's edge index is
    built (``CllProject.build_index``). About a second of work at 5,000 models; run it
    in a worker thread after the map."""
    if project.index is None:
        return None
    with _lock:
        found = _indexes.get(project)
        if found is None:
            found = _indexes[project] = WireIndex(project)
    return found


def prepared(project: CllProject) -> WireIndex | None:
    return _indexes.get(project)


def _walk(starts: Iterable[int], edges: Sequence[tuple[int, ...]]) -> set[int]:
    """Every number reached from ``starts`` over ``edges`` (a start only if it is reached);
    each step gathers a whole frontier's edges in one C-level call."""
    seen: set[int] = set()
    step = edges.__getitem__
    frontier: Iterable[int] = starts
    while True:
        found = set().union(*map(step, frontier))
        found -= seen
        if not found:
            return seen
        seen |= found
        frontier = found


def cll_json(
    project: CllProject,
    *,
    node_id: str | None = None,
    column: str | None = None,
    change_analysis: bool = False,
    no_cll: bool = False,
    no_upstream: bool = False,
    no_downstream: bool = False,
    vocabulary: str = "v1",
) -> bytes:
    """``{"current": CllData}`` as JSON, the same answer as ``cll_data`` with these params.
    Raises ``CllRequestError`` as ``cll_data`` does."""
    index = _indexes.get(project)
    found = None
    if index is not None and node_id is not None and not (change_analysis or no_cll):
        found = _node_answer(index, project, node_id, column, no_upstream, no_downstream)
    if found is not None:
        return found
    data = cll_data(
        project,
        node_id=node_id,
        column=column,
        change_analysis=change_analysis,
        no_cll=no_cll,
        no_upstream=no_upstream,
        no_downstream=no_downstream,
        vocabulary=vocabulary,
    )
    return _encode({"current": data})


def _node_answer(
    index: WireIndex,
    project: CllProject,
    node_id: str,
    column: str | None,
    no_upstream: bool,
    no_downstream: bool,
) -> bytes | None:
    """``cll_data``'s answer for a node or a column, without change analysis; None for a
    request this does not answer (``cll_data`` does)."""
    n = index.num.get(node_id)
    if n is None or n >= index.nodes:
        return None
    nodes = index.nodes
    # With a regular index (``_regular``), what the walks reach from ids the node owns is
    # within Recce's pool; otherwise the pool is walked and checked below.
    within_pool = index.regular
    if column is not None:
        c = index.num.get(project.column_id(node_id, column))
        if c is None:
            return None
        anchors = {c}
        within_pool = within_pool and (c >= index.owned_end or _owner(index, c) == n)
    else:
        anchors = {n, *index.node_columns[n]}
    result = set(anchors)
    all_parents: set[int] = set()
    all_children: set[int] = set()
    if not no_upstream:
        all_parents = _walk(anchors, index.up)
        result |= all_parents
        all_parents |= anchors
    if not no_downstream:
        all_children = _walk(anchors, index.down)
        result |= all_children
        all_children |= anchors

    # In cll_data's order: the nodes, then each node's columns, then ids no node has.
    ordered = sorted(result)
    first_column = bisect_left(ordered, nodes)
    columns = ordered[first_column : bisect_left(ordered, index.owned_end, first_column)]
    owner_get = index.owner_of.__getitem__
    owned = {o: list(group) for o, group in groupby(columns, owner_get)}
    if not within_pool:
        # Recce's pool: the node, its ancestors and its descendants (each way walked).
        pool = {n}
        if not no_upstream:
            pool |= _walk({n}, index.nup)
        if not no_downstream:
            pool |= _walk({n}, index.ndown)
        if not pool.issuperset(owned):
            return None  # a shorter pool id may have the column (cll_data's _owner): rare
    named, heads = index.named.__getitem__, index.heads
    # A node without columns in the answer is its head and tail, joined once (``bare``).
    bare, owned_get = index.bare, owned.get
    node_parts = [
        bare[o]
        if (kept := owned_get(o)) is None
        else heads[o] + b",".join(map(named, kept)) + _TAIL
        for o in sorted(owned.keys() | ordered[:first_column])
        if column is not None or o in result
    ]
    column_parts = map(index.keyed.__getitem__, columns)

    # An entry lists what of its ids is in the answer: all of them when the walk went that
    # way from it, or when they all are anyway (C-level checks; then the piece is whole).
    parent_parts = _map_entries(index, index.up, index.up_whole, result, all_parents)
    child_parts = _map_entries(index, index.down, index.down_whole, result, all_children)
    return b"".join(
        (
            b'{"current":{"nodes":{',
            b",".join(node_parts),
            b'},"columns":{',
            b",".join(column_parts),
            b'},"parent_map":{',
            b",".join(parent_parts),
            b'},"child_map":{',
            b",".join(child_parts),
            b"}}}",
        )
    )


def _map_entries(
    index: WireIndex,
    edges: list[tuple[int, ...]],
    whole: list[bytes],
    result: set[int],
    complete: set[int],
) -> list[bytes]:
    """The answer's ``parent_map`` (``child_map``) entries: for each id, its parents
    (children) that are in the answer. All of them when the walk went that way from the id
    (``complete``) or when they all are anyway (C-level checks): the whole entry, encoded
    once; else the filtered list."""
    parts = list(map(whole.__getitem__, complete))
    rest = list(result - complete)
    kept_whole = list(map(result.issuperset, map(edges.__getitem__, rest)))
    parts.extend(map(whole.__getitem__, compress(rest, kept_whole)))
    opening, quoted, inside, join = (
        index.opening,
        index.quoted.__getitem__,
        result.__contains__,
        b",".join,
    )
    parts.extend(
        [
            opening[i] + join(map(quoted, filter(inside, edges[i]))) + b"]"
            for i in compress(rest, map(not_, kept_whole))
        ]
    )
    return parts
