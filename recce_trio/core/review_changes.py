"""A review with each modified node's change analysis (``change.category`` and the changed
columns) in ``/api/info``'s merged lineage.

Change analysis parses both sides' SQL of every modified node: tens of milliseconds a node,
seconds on a large project. So the review is built without it (``category: "unknown"``) and
the server calls ``with_change_analysis`` after it is ready, in a worker thread, then swaps the
new review in and tells the page to refresh. The old review is left untouched.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import msgspec

from recce_trio.core.diff import LineageDiff
from recce_trio.core.review import Review, encode_in_pieces


def change_analysis(review: Review) -> dict[str, dict[str, Any]]:
    """``{unique_id: change}`` of every modified node, as Recce's ``change`` object."""
    project = review.cll
    out: dict[str, dict[str, Any]] = {}
    for uid, entry in review.diff.diff.items():
        if entry.get("change_status") != "modified":
            continue
        result = project.change(uid)
        if result is not None:
            out[uid] = result.to_wire()
    return out


def with_change_analysis(review: Review) -> Review:
    """A new review whose lineage diff and merged lineage carry each modified node's
    ``change`` (category and columns). Returns ``review`` itself if nothing is modified."""
    changes = change_analysis(review)
    if not changes:
        return review
    forms = [msgspec.json.decode(review.lineage_json), msgspec.json.decode(review.page_json)]
    for form in forms:
        nodes = form.get("nodes", {})
        for uid, change in changes.items():
            if uid in nodes:
                nodes[uid]["change"] = change
    diff = dict(review.diff.diff)
    for uid, change in changes.items():
        if uid in diff:
            diff[uid] = {**diff[uid], "change": change}
    return dataclasses.replace(
        review,
        diff=_with_diff(review.diff, diff),
        lineage_json=encode_in_pieces(forms[0]),
        page_json=encode_in_pieces(forms[1]),
        _full_json=None,
    )


def _with_diff(lineage_diff: LineageDiff, diff: dict[str, dict[str, Any]]) -> LineageDiff:
    """The same lineage diff (its selector graph, built or not, included) with another
    ``diff`` mapping."""
    out = copy.copy(lineage_diff)
    out.diff = diff
    return out
