"""What the API serves once loaded: the lineage diff and the merged lineage, computed once
from the four artifacts, and each node's details on demand."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec

from recce_trio.core.artifacts.records import Node
from recce_trio.core.artifactset import LoadedArtifacts
from recce_trio.core.cll.cache import CllCache
from recce_trio.core.diff import LineageDiff, build_lineage_diff, make_sides
from recce_trio.core.merged import merged_lineage

if TYPE_CHECKING:
    # sqlglot (~150 ms to import) stays off the startup path: Review.cll imports it.
    from recce_trio.core.cll.api import CllProject


@dataclass
class Review:
    """The loaded artifacts and everything derived from them, built before the API opens."""

    artifacts: LoadedArtifacts
    diff: LineageDiff
    # /api/info's "lineage" (the merged graph), encoded once: it is sent as is.
    lineage_json: bytearray
    # The own page's lighter form of it (/api/info?lineage=page; core/merged.py).
    page_json: bytearray
    # When this review was built (UTC, to the second): the state_metadata of /api/info.
    built_at: str = ""
    # The column lineage's cache, shared with the next review (keys are content digests).
    cll_cache: CllCache | None = field(default=None, repr=False)
    _cll: CllProject | None = field(default=None, repr=False)
    _cll_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _full_json: bytearray | None = field(default=None, repr=False)
    _full_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def cll_if_made(self) -> CllProject | None:
        """``cll`` if it was made already, else None: cheap, and safe on the event loop."""
        return self._cll

    @property
    def cll(self) -> CllProject:
        """Column lineage and change analysis of this artifact pair, computed per node on
        demand. Made on first use, not with the review: it imports sqlglot (a few hundred
        milliseconds), which readiness does not need. Read it in a worker thread, never on
        the event loop."""
        with self._cll_lock:
            if self._cll is None:
                from recce_trio.core.cll.api import CllProject

                artifacts = self.artifacts
                self._cll = CllProject(
                    artifacts.base_manifest,
                    artifacts.base_catalog,
                    artifacts.current_manifest,
                    artifacts.current_catalog,
                    changes={uid: e["change_status"] for uid, e in self.diff.diff.items()},
                    cache=self.cll_cache,
                )
            return self._cll

    def full_lineage_json(self) -> bytearray:
        """Both of Recce's forms of the lineage in one object: the older ``{base, current,
        diff}`` (every node's columns and code) with the merged graph beside it. Tens of
        megabytes on a large project, so built only when a client asks, then kept."""
        with self._full_lock:
            if self._full_json is None:
                merged = msgspec.json.decode(self.lineage_json)
                self._full_json = encode_in_pieces({**self.diff.to_builtins(), **merged})
            return self._full_json

    def model_details(self, unique_id: str) -> dict[str, Any]:
        """``/api/models/{id}``: each side's catalog columns, code and config; a side that does
        not have the node is ``{}`` (both, for an id unknown to either side, as Recce)."""
        sides: dict[str, dict[str, Any]] = {}
        manifests = {
            "base": self.artifacts.base_manifest,
            "current": self.artifacts.current_manifest,
        }
        for env, lineage in (("base", self.diff.base), ("current", self.diff.current)):
            nodes: Mapping[str, Any] = lineage["nodes"]
            if unique_id not in nodes:
                sides[env] = {}
                continue
            node = nodes[unique_id]
            side: dict[str, Any] = {"columns": node.get("columns") or {}}
            if node.get("primary_key") is not None:
                side["primary_key"] = node["primary_key"]
            record = manifests[env].lineage_record(unique_id)
            if record is not None:
                side.update(_code_and_config(record))
            sides[env] = side
        return sides

    def warm(self) -> None:
        """Evaluate what the lineage page selects on load (``/api/select``), so its first
        requests are as fast as the next. Run after the API opens, under the selector lock."""
        self.diff.graph.prepare()

    def knows(self, unique_id: str) -> bool:
        return unique_id in self.diff.base["nodes"] or unique_id in self.diff.current["nodes"]


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


def build_review(artifacts: LoadedArtifacts, *, cll_cache: CllCache | None = None) -> Review:
    """The review of these artifacts. The ``Side`` of each manifest is taken from
    ``artifacts.prepared`` if the loader made it already, else made here: the same review
    either way. The prepared sides are let go once used (they are kept in the review's
    lineages and state comparison only as far as those need them)."""
    sides = make_sides(artifacts.base_manifest, artifacts.current_manifest, artifacts.prepared)
    artifacts.prepared = ()
    diff = build_lineage_diff(
        artifacts.base_manifest,
        artifacts.base_catalog,
        artifacts.current_manifest,
        artifacts.current_catalog,
        sides,
    )
    lineages = merged_lineage(
        base=sides[0],
        current=sides[1],
        base_catalog=artifacts.base_catalog,
        current_catalog=artifacts.current_catalog,
        diff=diff.diff,
    )
    return Review(
        artifacts=artifacts,
        diff=diff,
        lineage_json=encode_in_pieces(lineages.recce),
        page_json=encode_in_pieces(lineages.page),
        built_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        cll_cache=cll_cache,
    )


_encoder = msgspec.json.Encoder()
PIECE = 256


def encode_in_pieces(value: Any) -> bytearray:
    """JSON of ``value``, encoded a few hundred entries at a time.

    The same bytes as one ``msgspec.json.encode`` call, but a big mapping (the nodes of a
    5,000-model lineage) is encoded in many short calls, straight into one buffer: one call
    would hold the GIL for a long stretch and stall the event loop, which answers health
    probes meanwhile, and joining pieces would briefly hold the JSON twice.
    """
    buffer = bytearray()
    _encode_into(value, buffer)
    return buffer


def _encode_into(value: Any, buffer: bytearray) -> None:
    if isinstance(value, list) and len(value) > PIECE:
        buffer += b"["
        for start in range(0, len(value), PIECE):
            if start:
                buffer += b","
            mark = len(buffer)
            _encoder.encode_into(value[start : start + PIECE], buffer, -1)
            del buffer[mark]  # its opening bracket
            del buffer[-1]  # its closing bracket
        buffer += b"]"
        return
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
