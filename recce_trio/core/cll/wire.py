"""``/api/cll`` answers as JSON bytes: ``{"current": CllData}``.

``cll_json`` is what the server sends. The answer a page asks for most, a node's lineage up and
down (``node_id``, optionally ``column``; no change analysis), is put together from JSON
pieces once the whole map is built and ``prepare`` has run over it (``WireIndex``): the
project-wide edge index with a number for each node and column id, and each id, column
object, node object (but its ``columns``) and whole ``parent_map``/``child_map`` entry
encoded once. A request walks the numbered index, picks the pieces and joins them, in
C-level passes (``map``, ``filter``, ``zip``) over the answer's ids: it builds no dict per
column, encodes no column again, and runs no Python statement per id. Any other answer
(change analysis, ``no_cll``, the changed nodes, or before ``prepare``) is ``cll_data``
encoded. Both give the same JSON (``tests/unit/test_cll_wire.py`` compares them node by node
and column by column).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from itertools import chain, compress, groupby, repeat
from operator import getitem, not_

import msgspec

from recce_trio.core.cll.api import cll_data
from recce_trio.core.cll.graph import CllProject, Edges, column_object

__all__ = ["WireIndex", "cll_json", "prepare", "prepared"]

_encode = msgspec.json.Encoder().encode
_TAIL = b'},"impacted":null}'
# Kinds of ids: a node, a column a node has, and an id no node has.
NODE, COLUMN, OTHER = 0, 1, 2
# What follows a token in an answer's "nodes" object, by (its kind, the next id's kind;
# OTHER there: the end): between a node and its first column nothing, between columns a
# comma, after a node's last column the node's tail.
_SEPARATORS = {
    (NODE, NODE): b",",
    (NODE, COLUMN): b"",
    (NODE, OTHER): b"",
    (COLUMN, COLUMN): b",",
    (COLUMN, NODE): _TAIL + b",",
    (COLUMN, OTHER): _TAIL,
}


class WireIndex:
    """One project's numbered edge index and encoded pieces (immutable once built).

    Numbers run so that sorting numbers sorts an answer: each node id, in sorted order, is
    followed by the column ids it has (``CllProject.owner``) in the node's order (cll_data's
    order of ``columns``); then the ids no node has. ``kind`` tells them apart;
    ``owner_of`` is the node that owns a node or column id (a node owns itself; -1 for the
    others). ``up``/``down`` are the index's parent and child ids by number; ``nup``/
    ``ndown`` the lineage graph's (empty but for nodes).
    """

    def __init__(self, project: CllProject) -> None:
        pmap, cmap = project.index or ({}, {})
        parents, children = project.graph()
        node_ids = sorted(parents)
        node_set = set(node_ids)
        ids: list[str] = []
        num: dict[str, int] = {}
        kind: list[int] = []
        owner_of: list[int] = []
        # By number: a node's head (``"<uid>":{...,"columns":{``) and its object without
        # columns (``bare``); a column's b'"<name>":{column object}' (``named``) and
        # b'"<column id>":{column object}' (``keyed``); empty where they do not apply.
        heads: list[bytes] = []
        bare: list[bytes] = []
        named: list[bytes] = []
        keyed: list[bytes] = []
        for uid in node_ids:
            n = len(ids)
            num[uid] = n
            ids.append(uid)
            kind.append(NODE)
            owner_of.append(n)
            heads.append(_head(project, uid, _encode(uid)))
            bare.append(heads[-1] + _TAIL)
            named.append(b"")
            keyed.append(b"")
            edges = project.edges(uid)
            for col in edges.columns if edges is not None else ():
                cid = f"{uid}_{col.name}"
                if cid in node_set or cid in num or project.owner(cid) != uid or cid not in pmap:
                    continue  # a node id, or a longer node's column
                obj = _encode(column_object(uid, cid, col))
                num[cid] = len(ids)
                ids.append(cid)
                kind.append(COLUMN)
                owner_of.append(n)
                heads.append(b"")
                bare.append(b"")
                named.append(_encode(col.name) + b":" + obj)
                keyed.append(_encode(cid) + b":" + obj)
        self.owned_end = len(ids)
        for key in (*pmap, *cmap):
            if key not in num:
                num[key] = len(ids)
                ids.append(key)
                kind.append(OTHER)
                owner_of.append(-1)
        self.ids, self.num, self.kind, self.owner_of = ids, num, kind, owner_of
        self.heads, self.bare, self.named, self.keyed = heads, bare, named, keyed
        number_of = num.get
        # A node's columns (its own and those a longer node id spells the same), by number.
        self.node_columns: list[tuple[int, ...]] = [()] * len(ids)
        for uid in node_ids:
            edges = project.edges(uid)
            cols = map(number_of, [f"{uid}_{c.name}" for c in (edges.columns if edges else ())])
            self.node_columns[num[uid]] = tuple([c for c in cols if c is not None])
        number = num.__getitem__

        def numbered(edges: Edges, keys: Iterable[str]) -> list[tuple[int, ...]]:
            get = edges.get
            return [tuple(map(number, get(k, ()))) for k in keys]

        self.up, self.down = numbered(pmap, ids), numbered(cmap, ids)
        self.nup, self.ndown = numbered(parents, ids), numbered(children, ids)
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
        # The "nodes" object's token for each id, by the next id's kind (``_nodes_object``):
        # a node followed by one of its columns is its head, else its bare object; a column
        # is its named object. (Lists of references to the pieces above.)
        as_bare = [b or c for b, c in zip(bare, named, strict=True)]
        as_head = [h or c for h, c in zip(heads, named, strict=True)]
        self.token_before = (as_bare, as_head, as_bare)


def _regular(index: WireIndex) -> bool:
    """Whether every edge of the index stays within the lineage graph: from an id owned by
    node ``o`` to ids owned by ``o`` or by a parent (child) of ``o``, and no id that no node
    owns has edges. Then whatever an answer's walks reach from a node's ids is owned by that
    node or by its ancestors (descendants), the nodes of Recce's pool, and the answer need
    not walk the node graph to check it (``_node_answer``)."""
    owner_of = index.owner_of
    for o, columns in enumerate(index.node_columns):
        if any(owner_of[c] != o for c in columns):
            return False  # a node's column id that a longer node id spells the same
    for edges, graph in ((index.up, index.nup), (index.down, index.ndown)):
        near: dict[int, frozenset[int]] = {}
        for i, found in enumerate(edges):
            if not found:
                continue
            o = owner_of[i]
            if o < 0:
                return False
            allowed = near.get(o)
            if allowed is None:
                allowed = near[o] = frozenset((o, *graph[o]))
            if any(owner_of[j] not in allowed for j in found):
                return False
    return True


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


def _walk(starts: Iterable[int], edges: list[tuple[int, ...]]) -> set[int]:
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
    if n is None or index.kind[n] != NODE:
        return None
    # With a regular index (``_regular``), what the walks reach from ids the node owns is
    # within Recce's pool; otherwise the pool is walked and checked below.
    within_pool = index.regular
    if column is not None:
        c = index.num.get(project.column_id(node_id, column))
        if c is None:
            return None
        anchors = {c}
        within_pool = within_pool and index.owner_of[c] in (n, -1)
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

    ordered = sorted(result)
    kinds = list(map(index.kind.__getitem__, ordered))
    columns = list(compress(ordered, map(COLUMN.__eq__, kinds)))
    owners = set(map(index.owner_of.__getitem__, columns))
    if not within_pool:
        # Recce's pool: the node, its ancestors and its descendants (each way walked).
        pool = {n}
        if not no_upstream:
            pool |= _walk({n}, index.nup)
        if not no_downstream:
            pool |= _walk({n}, index.ndown)
        if not pool.issuperset(owners):
            return None  # a shorter pool id may have the column (cll_data's _owner): rare
    if OTHER in kinds or not result.issuperset(owners):
        nodes = _nodes_grouped(index, ordered, kinds, columns, column is not None, result)
    else:
        nodes = _nodes_object(index, ordered, kinds)
    return b"".join(
        (
            b'{"current":{"nodes":{',
            nodes,
            b'},"columns":{',
            b",".join(map(index.keyed.__getitem__, columns)),
            b'},"parent_map":{',
            _map_object(index, index.up, index.up_whole, result, all_parents),
            b'},"child_map":{',
            _map_object(index, index.down, index.down_whole, result, all_children),
            b"}}}",
        )
    )


def _nodes_object(index: WireIndex, ordered: list[int], kinds: list[int]) -> bytes:
    """The inside of the answer's "nodes" object when every column in the answer has its
    node in it too (and no id that no node has is): in number order each node is followed
    by its columns, so the object is a token per id and a separator after it, each picked
    by the id's kind and the next one's (``WireIndex.token_before``, ``_SEPARATORS``)."""
    following = kinds[1:]
    following.append(OTHER)
    tokens = map(getitem, map(index.token_before.__getitem__, following), ordered)
    separators = map(_SEPARATORS.__getitem__, zip(kinds, following, strict=True))
    return b"".join(chain.from_iterable(zip(tokens, separators, strict=True)))


def _nodes_grouped(
    index: WireIndex,
    ordered: list[int],
    kinds: list[int],
    columns: list[int],
    for_column: bool,
    result: set[int],
) -> bytes:
    """The inside of the "nodes" object in any case: each node with its columns in the
    answer (for a ``column`` request, also the nodes that own those columns)."""
    owned = {o: list(group) for o, group in groupby(columns, index.owner_of.__getitem__)}
    in_answer = {i for i, k in zip(ordered, kinds, strict=True) if k == NODE}
    named, heads, bare, owned_get = index.named.__getitem__, index.heads, index.bare, owned.get
    return b",".join(
        [
            bare[o]
            if (kept := owned_get(o)) is None
            else heads[o] + b",".join(map(named, kept)) + _TAIL
            for o in sorted(owned.keys() | in_answer)
            if for_column or o in result
        ]
    )


def _map_object(
    index: WireIndex,
    edges: list[tuple[int, ...]],
    whole: list[bytes],
    result: set[int],
    complete: set[int],
) -> bytes:
    """The inside of the answer's ``parent_map`` (``child_map``): for each id, its parents
    (children) that are in the answer. All of them when the walk went that way from the id
    (``complete``) or when they all are anyway: the whole entry, encoded once; else the
    filtered list, made in C-level passes."""
    parts = list(map(whole.__getitem__, complete))
    rest = list(result - complete)
    kept_whole = list(map(result.issuperset, map(edges.__getitem__, rest)))
    parts.extend(map(whole.__getitem__, compress(rest, kept_whole)))
    filtered = list(compress(rest, map(not_, kept_whole)))
    inside = map(filter, repeat(result.__contains__), map(edges.__getitem__, filtered))
    lists = map(b",".join, map(map, repeat(index.quoted.__getitem__), inside))
    parts.extend(map(b"".join, zip(map(index.opening.__getitem__, filtered), lists, repeat(b"]"))))
    return b",".join(parts)
