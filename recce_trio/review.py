"""What the API serves once loaded: the lineage diff, computed once from the four artifacts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from recce_trio.diff import LineageDiff, build_lineage_diff
from recce_trio.loading import LoadedArtifacts


@dataclass
class Review:
    """The loaded artifacts and everything derived from them, built before the API opens."""

    artifacts: LoadedArtifacts
    diff: LineageDiff
    lineage_json: msgspec.Raw  # /api/info's "lineage", encoded once: it is served as is

    @property
    def project_name(self) -> str | None:
        return self.artifacts.current_manifest.metadata.project_name

    def model_columns(self, unique_id: str) -> dict[str, Any] | None:
        """``/api/model/{id}``: both sides' columns; None if neither side knows the node."""
        sides = {}
        for env, lineage in (("base", self.diff.base), ("current", self.diff.current)):
            node = lineage["nodes"].get(unique_id)
            if node is None:
                sides[env] = {}
                continue
            side: dict[str, Any] = {"columns": node.get("columns") or {}}
            if node.get("primary_key") is not None:
                side["primary_key"] = node["primary_key"]
            sides[env] = side
        if not sides["base"] and not sides["current"]:
            return None
        return sides


def build_review(artifacts: LoadedArtifacts) -> Review:
    diff = build_lineage_diff(
        artifacts.base_manifest,
        artifacts.base_catalog,
        artifacts.current_manifest,
        artifacts.current_catalog,
    )
    lineage_json = msgspec.Raw(msgspec.json.encode(diff.to_builtins()))
    return Review(artifacts=artifacts, diff=diff, lineage_json=lineage_json)
