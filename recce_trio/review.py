"""What the API serves once loaded: the lineage diff, computed once from the four artifacts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from recce_trio.loading import LoadedArtifacts


@dataclass
class Review:
    artifacts: LoadedArtifacts
    diff: Any


def build_review(artifacts: LoadedArtifacts) -> Review:
    return Review(artifacts=artifacts, diff=None)
