"""The checklist: checks and runs as Recce stores them, their order and merge rules, and presets."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from pathlib import Path
from typing import Any

import msgspec

from recce_trio.errors import ConfigError, RecceTrioError

# Recce's RunType values, in its order.
RUN_TYPES = (
    "simple",
    "query",
    "query_base",
    "query_diff",
    "value_diff",
    "value_diff_detail",
    "schema_diff",
    "profile",
    "profile_diff",
    "row_count",
    "row_count_diff",
    "lineage_diff",
    "top_k_diff",
    "histogram_diff",
)
# What recce-trio computes itself, from the artifacts.
SERVER_RUN_TYPES = frozenset({"lineage_diff", "schema_diff"})
# What needs SQL against the warehouse (in RUN_TYPES order: /api/info lists them so).
WAREHOUSE_RUN_TYPES = tuple(t for t in RUN_TYPES if t not in SERVER_RUN_TYPES and t != "simple")

RUNNING, FINISHED, FAILED, CANCELLED = "Running", "Finished", "Failed", "Cancelled"
RUN_STATUSES = (RUNNING, FINISHED, FAILED, CANCELLED)

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class ChecklistError(RecceTrioError, ValueError):
    """A request the checklist cannot do (an index out of range, a missing field)."""

    status = 400  # a client's mistake when it ends a request


class PresetCheckError(ConfigError):
    """recce.yml is not valid YAML or has a preset check that Recce would refuse."""


def utc_now() -> str:
    """Now in UTC to the second, as Recce writes every timestamp of a state file."""
    return dt.datetime.now(dt.UTC).strftime(TIME_FORMAT)


def parse_time(text: str | None) -> dt.datetime:
    """A state file timestamp; unreadable or missing ones sort first."""
    if not text:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _new_id() -> str:
    return str(uuid.uuid4())


class Check(msgspec.Struct, kw_only=True):
    """Recce's ``Check``; fields in the order Recce writes them."""

    name: str
    description: str = ""
    type: str
    params: dict[str, Any] | None = None
    view_options: dict[str, Any] | None = None
    check_id: str = msgspec.field(default_factory=_new_id)
    session_id: str | None = None
    is_checked: bool = False
    is_preset: bool = False
    created_by: str | None = None
    updated_by: str | None = None
    created_at: str = msgspec.field(default_factory=utc_now)
    updated_at: str = msgspec.field(default_factory=utc_now)

    def merge(self, other: Check) -> bool:
        """Take ``other``'s content if it was updated later (Recce's ``Check.merge``)."""
        if parse_time(self.updated_at) >= parse_time(other.updated_at):
            return False
        for name in ("name", "description", "type", "params", "view_options", "is_checked",
                     "is_preset", "updated_at", "updated_by"):  # fmt: skip
            setattr(self, name, getattr(other, name))
        return True

    def preset_key(self) -> str:
        """What makes two presets the same check across runs of ``recce run``."""
        payload = msgspec.json.encode(
            {"type": self.type, "params": self.params, "view_options": self.view_options},
            order="sorted",
        )
        return hashlib.sha256(payload).hexdigest()


class Run(msgspec.Struct, kw_only=True):
    """Recce's ``Run``; fields in the order Recce writes them."""

    type: str
    name: str | None = None
    params: dict[str, Any] | None = None
    check_id: str | None = None
    result: Any = None
    error: str | None = None
    status: str | None = None
    progress: dict[str, Any] | None = None
    run_id: str = msgspec.field(default_factory=_new_id)
    run_at: str = msgspec.field(default_factory=utc_now)
    # Who started it: "user" (the API and the web page), "recce_ai" (Recce's MCP server) or
    # null (Recce's `recce run`, and state files written before the field existed).
    triggered_by: str | None = None
    # recce-trio's: seconds from submit to end, for runs it executed (Recce's runs carry no
    # end). Left out of the JSON when unknown, so a Recce run keeps Recce's shape.
    duration: float | None = None

    def __post_init__(self) -> None:
        # Recce before 1.x wrote lowercase statuses; it normalises them when loading.
        if self.status is not None and self.status not in RUN_STATUSES:
            self.status = self.status.capitalize()


def is_outdated(last_run: Run | None, artifacts_generated_at: list[str | None]) -> bool:
    """Whether a check's result may no longer hold: its last run was computed before the
    newest of the loaded artifacts was generated (dbt rebuilt them since, or a state file
    brought an older run). A check never run is not outdated: it has no result yet."""
    if last_run is None or last_run.status not in (FINISHED, FAILED):
        return False
    newest = max((parse_time(at) for at in artifacts_generated_at if at), default=None)
    return newest is not None and parse_time(last_run.run_at) < newest


def to_builtins(record: Check | Run, *, exclude_none: bool = False) -> dict[str, Any]:
    """A record as a JSON-ready dict (shallow: results and params are shared, not copied)."""
    data = msgspec.structs.asdict(record)
    if isinstance(record, Run) and record.duration is None:
        del data["duration"]
    if exclude_none:
        return {key: value for key, value in data.items() if value is not None}
    return data


class Checklist:
    """The checks (ordered, as the reviewer arranged them) and every run, in creation order."""

    def __init__(self, checks: list[Check] | None = None, runs: list[Run] | None = None) -> None:
        self.checks: list[Check] = list(checks or [])
        self.runs: list[Run] = list(runs or [])

    def check(self, check_id: str) -> Check | None:
        return next((c for c in self.checks if c.check_id == check_id), None)

    def run(self, run_id: str) -> Run | None:
        return next((r for r in self.runs if r.run_id == run_id), None)

    def last_run(self, check_id: str) -> Run | None:
        return next((r for r in reversed(self.runs) if r.check_id == check_id), None)

    def delete(self, check_id: str) -> bool:
        """Remove a check; its runs stay. False if there was no such check."""
        before = len(self.checks)
        self.checks = [c for c in self.checks if c.check_id != check_id]
        return len(self.checks) != before

    def reorder(self, source: int, destination: int) -> None:
        """Move the check at ``source`` to ``destination`` (pop, then insert)."""
        if not 0 <= source < len(self.checks):
            raise ChecklistError("Failed to reorder checks. Source index out of range")
        if not 0 <= destination < len(self.checks):
            raise ChecklistError("Failed to reorder checks. Destination index out of range")
        self.checks.insert(destination, self.checks.pop(source))

    def merge(self, checks: list[Check], runs: list[Run]) -> tuple[int, int]:
        """Merge another state's checks and runs in (Recce's ``import_state(merge=True)``).

        A check matches by check_id, or a preset by its type, params and view options; the
        later ``updated_at`` wins. Runs are added by run_id and kept sorted by ``run_at``.
        Returns how many runs and checks were added or changed.
        """
        by_id = {c.check_id: c for c in self.checks}
        presets = {c.preset_key(): c for c in self.checks if c.is_preset}
        merged_checks = 0
        for incoming in checks:
            mine = by_id.get(incoming.check_id)
            if mine is None and incoming.is_preset:
                mine = presets.get(incoming.preset_key())
            if mine is None:
                self.checks.append(incoming)
                by_id[incoming.check_id] = incoming
                merged_checks += 1
            elif mine.merge(incoming):
                merged_checks += 1
        known = {r.run_id for r in self.runs}
        added = []
        for run in runs:
            if run.run_id not in known:
                known.add(run.run_id)
                added.append(run)
        if added:
            self.runs.extend(added)
            self.runs.sort(key=lambda r: r.run_at)
        return len(added), merged_checks


# ---- preset checks (recce.yml) ----

CONFIG_FILE = "recce.yml"


def read_preset_checks(path: Path) -> list[dict[str, Any]]:
    """The ``checks:`` of a recce.yml, validated as Recce does; [] if the file does not exist.

    Raises ``PresetCheckError`` naming the file and the bad entry.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise PresetCheckError(f"cannot read {path}: {exc}") from None
    return parse_preset_checks(text, path=path)


def parse_preset_checks(text: str, *, path: Path | str) -> list[dict[str, Any]]:
    import yaml  # only projects with a recce.yml pay for the import

    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise PresetCheckError(f"{path} is not valid YAML: {exc}") from None
    if data is None:
        return []
    if not isinstance(data, dict):
        raise PresetCheckError(f"{path} must be a mapping with a 'checks' list")
    checks = data.get("checks")
    if checks is None:
        return []
    if not isinstance(checks, list):
        raise PresetCheckError(f"{path}: 'checks' must be a list of checks")
    presets = []
    for i, entry in enumerate(checks):
        where = f"{path}: checks[{i}]"
        if not isinstance(entry, dict):
            raise PresetCheckError(f"{where} must be a mapping with name, type and params")
        label = f"{where} ({entry['name']!r})" if isinstance(entry.get("name"), str) else where
        if not isinstance(entry.get("name"), str) or not entry["name"]:
            raise PresetCheckError(f"{where} has no name")
        check_type = entry.get("type")
        if check_type not in RUN_TYPES:
            raise PresetCheckError(
                f"{label} has type {check_type!r}; expected one of {', '.join(RUN_TYPES)}"
            )
        for key in ("params", "view_options"):
            if entry.get(key) is not None and not isinstance(entry[key], dict):
                raise PresetCheckError(f"{label}: {key} must be a mapping")
        description = entry.get("description") or ""
        if not isinstance(description, str):
            raise PresetCheckError(f"{label}: description must be text")
        presets.append(
            {
                "name": entry["name"],
                "description": description,
                "type": check_type,
                "params": entry.get("params") or {},
                "view_options": entry.get("view_options") or {},
            }
        )
    return presets


def preset_checks(presets: list[dict[str, Any]]) -> list[Check]:
    """Checks made from recce.yml entries, as Recce makes them when nothing was loaded."""
    return [Check(**preset, is_preset=True) for preset in presets]
