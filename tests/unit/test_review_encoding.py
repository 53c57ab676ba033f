"""The lineage JSON is encoded in pieces; it must be exactly what one encode would give."""

from __future__ import annotations

import msgspec

from recce_trio.core import review


def test_pieces_equal_one_encode() -> None:
    value = {
        "base": {
            "nodes": {
                f"model.p.m{i}": {"id": i, "columns": {"a": {"type": "int"}}} for i in range(1000)
            },
            "parent_map": {f"model.p.m{i}": [f"model.p.m{i - 1}"] for i in range(1, 600)},
            "manifest_metadata": {"project_name": "p", "env": {}},
        },
        "diff": {},
        "empty": {},
        "list": [1, {"x": None}],
    }
    assert bytes(review.encode_in_pieces(value)) == msgspec.json.encode(value)
    assert msgspec.json.decode(review.encode_in_pieces(value)) == value


def test_long_lists_in_pieces_equal_one_encode() -> None:
    value = {
        "edges": [{"source": f"a{i}", "target": f"b{i}"} for i in range(1000)],
        "short": [1, 2],
        "nested": {"edges": [[i, None] for i in range(257)]},
        "exactly": list(range(review.PIECE)),
    }
    assert bytes(review.encode_in_pieces(value)) == msgspec.json.encode(value)
