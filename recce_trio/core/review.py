"""What the API serves once loaded: the lineage diff, computed once from the four artifacts."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from recce_trio.core.artifacts.records import Manifest, Node
from recce_trio.core.artifactset import LoadedArtifacts
from recce_trio.core.diff import LineageDiff, build_lineage_diff
from recce_trio.core.merged import merged_lineage


@dataclass
class Review:
    """The loaded artifacts and everything derived from them, built before the API opens."""

    artifacts: LoadedArtifacts
    diff: LineageDiff
    lineage_json: bytearray  # /api/info's "lineage", encoded once: it is sent as is

    @property
    def project_name(self) -> str | None:
        return self.artifacts.current_manifest.metadata.project_name

    def model_columns(self, unique_id: str) -> dict[str, Any] | None:
        """``/api/models/{id}``: both sides' columns and, for the page's code and config
        diffs, the node's code and config; None if neither side knows the node."""
        sides: dict[str, dict[str, Any]] = {}
        manifests = {
            "base": self.artifacts.base_manifest,
            "current": self.artifacts.current_manifest,
        }
        for env, lineage in (("base", self.diff.base), ("current", self.diff.current)):
            node = lineage["nodes"].get(unique_id)
            if node is None:
                sides[env] = {}
                continue
            side: dict[str, Any] = {"columns": node.get("columns") or {}}
            if node.get("primary_key") is not None:
                side["primary_key"] = node["primary_key"]
            record = _record(manifests[env], unique_id)
            if record is not None:
                side.update(_code_and_config(record))
            sides[env] = side
        if not sides["base"] and not sides["current"]:
            return None
        return sides


def _record(manifest: Manifest, unique_id: str) -> Node | None:
    for part in (manifest.nodes, manifest.sources, manifest.exposures, manifest.metrics):
        record = part.get(unique_id)
        if record is not None:
            return record
    return None


def _code_and_config(record: Node) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resource_type": record.resource_type,
        "config": record.config,
        "unrendered_config": record.unrendered_config,
    }
    if record.raw_code is not None:
        out["raw_code"] = record.raw_code
    if record.compiled_code is not None:
        out["compiled_code"] = record.compiled_code
    if record.checksum is not None:
        out["checksum"] = msgspec.to_builtins(record.checksum)
    return out


def build_review(artifacts: LoadedArtifacts) -> Review:
    diff = build_lineage_diff(
        artifacts.base_manifest,
        artifacts.base_catalog,
        artifacts.current_manifest,
        artifacts.current_catalog,
    )
    # Both forms of Recce's /api/info lineage: base/current/diff, and the merged graph that
    # newer Recce UIs read (recce_trio.core.merged).
    lineage = {
        **diff.to_builtins(),
        **merged_lineage(
            diff.base,
            diff.current,
            diff.diff,
            base_manifest=artifacts.base_manifest,
            current_manifest=artifacts.current_manifest,
        ),
    }
    lineage_json = encode_in_pieces(lineage)
    return Review(artifacts=artifacts, diff=diff, lineage_json=lineage_json)


_encoder = msgspec.json.Encoder()
PIECE = 256


def encode_in_pieces(value: Any) -> bytearray:
    """JSON of ``value``, encoded a few hundred entries at a time.

    The same bytes as one ``msgspec.json.encode`` call, but a big mapping (the nodes of a
    5,000-model lineage) is encoded in many short calls, straight into one buffer: one call
    would hold the GIL for ~100 ms and stall the event loop, which answers health probes
    meanwhile, and joining pieces would briefly hold the JSON twice.
    """
    buffer = bytearray()
    _encode_into(value, buffer)
    return buffer


def _encode_into(value: Any, buffer: bytearray) -> None:
    if not isinstance(value, Mapping):
        _encoder.encode_into(value, buffer, -1)
        return
    buffer += b"{"
    first = True
    if len(value) <= PIECE:
        for key, item in value.items():
            if not first:
                buffer += b","
            first = False
            _encoder.encode_into(key, buffer, -1)
            buffer += b":"
            _encode_into(item, buffer)
    else:
        items = iter(value.items())
        while piece := dict(itertools.islice(items, PIECE)):
            start = len(buffer)
            _encoder.encode_into(piece, buffer, -1)  # appends {"k":v,...}
            if first:
                del buffer[start]  # its opening brace
            else:
                buffer[start] = ord(",")
            del buffer[-1]  # its closing brace
            first = False
    buffer += b"}"
