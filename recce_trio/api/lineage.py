"""Lineage endpoints: /api/info, /api/select, /api/model(s)/{id}."""

from __future__ import annotations

from quart import Quart


def register(app: Quart) -> None:
    pass
