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
from collections.abc import Iterable, Sequence

import msgspec

from recce_trio.core.cll.api import cll_data
from recce_trio.core.cll.graph import CllProject, Edges, WireColumn

__all__ = ["WireIndex", "cll_json", "prepare", "prepared"]

_encode = msgspec.json.Encoder().encode
_TAIL = b'},"impacted":null}'
_Piece = tuple[int, int, int, bytes, bytes]


class WireIndex:
    """One project's numbered edge index and encoded pieces (immutable once built).

    Node ids are numbered first, in sorted order (so sorting numbers sorts ids), then column
    ids. ``up``/``down`` are the index's parent and child ids by number; ``nup``/``ndown``
    the lineage graph's (nodes only).
    """

    def __init__(self, project: CllProject) -> None:
        pmap, cmap = project.index or ({}, {})
        parents, children = project.graph()
        node_ids = sorted(parents)
        self.nodes = len(node_ids)
        ids = list(node_ids)
        num = {uid: i for i, uid in enumerate(node_ids)}
        for key in (*pmap, *cmap):
            if key not in num:
                num[key] = len(ids)
                ids.append(key)
        self.ids, self.num = ids, num

        def numbered(edges: Edges, keys: Iterable[str]) -> list[tuple[int, ...]]:
            return [tuple(num[t] for t in edges.get(k, ())) for k in keys]

        self.up, self.down = numbered(pmap, ids), numbered(cmap, ids)
        self.nup, self.ndown = numbered(parents, node_ids), numbered(children, node_ids)
        quoted = [_encode(k) for k in ids]
        self.quoted = quoted
        self.up_whole = [
            q + b":" + _encode(pmap.get(k, ())) for q, k in zip(quoted, ids, strict=True)
        ]
        self.down_whole = [
            q + b":" + _encode(cmap.get(k, ())) for q, k in zip(quoted, ids, strict=True)
        ]
        # Each column id: (its node's number, its position there, its own number,
        # b'"<name>":', the column object) for the node CllProject.owner names; None for an id
        # no node has.
        self.column: list[_Piece | None] = [None] * len(ids)
        self.node_columns: list[tuple[int, ...]] = []
        self.heads: list[bytes] = []
        for n, uid in enumerate(node_ids):
            self.heads.append(_head(project, uid, quoted[n]))
            mine = []
            edges = project.edges(uid)
            for pos, col in enumerate(edges.columns if edges is not None else ()):
                cid = f"{uid}_{col.name}"
                c = num.get(cid)
                if c is None:
                    continue  # not in the index: no answer names it
                mine.append(c)
                if project.owner(cid) == uid:
                    name_key = _encode(col.name) + b":"
                    self.column[c] = (n, pos, c, name_key, _column_object(uid, cid, col))
            self.node_columns.append(tuple(mine))


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


def _column_object(uid: str, cid: str, col: WireColumn) -> bytes:
    """Recce's column object as ``CllProject.column_dicts`` has it (change_status null)."""
    return _encode(
        {
            "id": cid,
            "table_id": uid,
            "name": col.name,
            "type": col.type,
            "transformation_type": col.kind,
            "change_status": None,
            "depends_on": [{"node": p, "column": c} for p, c in col.parents],
        }
    )


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
    seen: set[int] = set()
    frontier: Iterable[int] = starts
    while True:
        found: set[int] = set()
        for i in frontier:
            found.update(edges[i])
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
    pool = {n}
    if not no_upstream:
        pool |= _walk(pool, index.nup)
    if not no_downstream:
        pool |= _walk({n}, index.ndown)
    if column is not None:
        c = index.num.get(project.column_id(node_id, column))
        if c is None:
            return None
        anchors = {c}
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

    # Each column of the answer to the node that has it (see cll_data).
    owned: dict[int, list[_Piece]] = {}
    piece_of = index.column
    for i in result:
        if i < nodes:
            continue
        piece = piece_of[i]
        if piece is None:
            continue
        if piece[0] not in pool:
            return None  # a shorter pool id may have it (cll_data's _owner): rare
        owned.setdefault(piece[0], []).append(piece)

    quoted = index.quoted
    heads = index.heads
    node_parts: list[bytes] = []
    column_parts: list[bytes] = []
    add_column = column_parts.append
    for o in sorted({i for i in result if i < nodes} | owned.keys()):
        kept = owned.get(o)
        own = b""
        if kept:
            kept.sort()  # the node's column order (a position is unique within a node)
            own = b",".join([name_key + obj for _, _, _, name_key, obj in kept])
            for _, _, c, _, obj in kept:
                add_column(quoted[c] + b":" + obj)
        if o in result or column is not None:
            node_parts.append(heads[o] + own + _TAIL)

    # An entry lists what of its ids is in the answer: all of them when the walk went that
    # way from it, or when they all are anyway (a C-level check; then the piece is whole).
    within = result.issuperset
    up, down = index.up, index.down
    up_whole, down_whole = index.up_whole, index.down_whole
    parent_parts = [
        up_whole[i]
        if i in all_parents or within(up[i])
        else quoted[i] + b":[" + b",".join([quoted[p] for p in up[i] if p in result]) + b"]"
        for i in result
    ]
    child_parts = [
        down_whole[i]
        if i in all_children or within(down[i])
        else quoted[i] + b":[" + b",".join([quoted[c] for c in down[i] if c in result]) + b"]"
        for i in result
    ]
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
