"""The commands without a server: load like the server does, run the checks (`recce-trio
run`; the warehouse ones in the dbt profile's warehouse, when one is configured), write the
state file; `recce-trio summary` loads the same way."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from recce_trio.config import ServerConfig
from recce_trio.core import runs
from recce_trio.core import state as statefile
from recce_trio.core.artifacts.files import ArtifactPaths
from recce_trio.core.artifactset import (
    ARTIFACT_KEYS,
    LoadedArtifacts,
    Source,
    file_sources,
    git_branch,
    merge_newer_artifacts,
    read_sources,
    review_artifacts,
)
from recce_trio.core.checks import (
    CONFIG_FILE,
    FAILED,
    FINISHED,
    SERVER_RUN_TYPES,
    WAREHOUSE_RUN_TYPES,
    Check,
    Checklist,
    Run,
    preset_checks,
    read_preset_checks,
)
from recce_trio.core.diff import LineageDiff
from recce_trio.core.state import write_atomic
from recce_trio.errors import ArtifactNotFoundError, RecceTrioError


def run_checks(
    config: ServerConfig, *, state_file: Path | None, output: Path, summary_path: Path | None
) -> list[str]:
    """Load, run, write the state (and summary). Returns the lines to print.

    Raises ``RecceTrioError`` if the artifacts, the state file or recce.yml cannot be read.
    """
    from recce_trio.core.diff import build_lineage_diff

    offline = load_offline(config, state_file=state_file, review=False)
    a = offline.artifacts
    lineage_diff = build_lineage_diff(
        a.base_manifest, a.base_catalog, a.current_manifest, a.current_catalog
    )
    checklist = offline.checklist
    if not offline.state_loaded:
        presets = read_preset_checks(config.project_dir / CONFIG_FILE)
        checklist.checks.extend(preset_checks(presets))
    report = [f"Changed nodes: {len(lineage_diff.diff)}"]
    warehouse = _Warehouse(config, offline)
    try:
        for check in checklist.checks:
            report.append(_run_one(check, checklist.runs, lineage_diff, warehouse))
    finally:
        warehouse.close()
    write_atomic(output, offline.encode())
    report.append(f"The state file is stored at '{output}'")
    if summary_path is not None:
        from recce_trio.core.summary import build_summary, summary_cll

        if summary_path.parent != Path(""):
            summary_path.parent.mkdir(parents=True, exist_ok=True)
        cll = summary_cll(a, lineage_diff)
        summary_path.write_text(
            build_summary(lineage_diff, checklist.checks, checklist.runs, cll=cll)
        )
        report.append(f"The summary is stored at '{summary_path}'")
    return report


class _Warehouse:
    """The profile's warehouse for the checks that need one: opened on the first such check,
    closed at the end. ``skip`` says why there is none (no profile configured)."""

    def __init__(self, config: ServerConfig, offline: OfflineReview) -> None:
        self.config = config
        self.offline = offline
        self.engine: Any = None
        self.target: Any = None
        self.problem: RecceTrioError | None = None
        self.skip: str | None = None
        self.opened = False

    def context(self, lineage_diff: LineageDiff) -> Any:
        """A RunContext, or None (``skip`` or ``problem`` says why)."""
        from recce_trio.warehouse.configured import open_configured, resolve_target, run_context

        if not self.opened:
            self.opened = True
            try:
                self.target = resolve_target(self.config)
                if self.target is None:
                    self.skip = "needs a warehouse connection, and no dbt profile is configured"
                else:
                    self.engine = open_configured(
                        self.target,
                        self.config.duckdb_external_access,
                        self.config.demo,
                        self.config.dbt_adapter,
                    )
            except RecceTrioError as exc:
                self.problem = exc
        if self.engine is None:
            return None
        return run_context(
            self.offline.artifacts,
            lineage_diff,
            self.engine,
            self.target,
            sources=self.offline.sources,
        )

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()


def _run_one(
    check: Check, history: list[Run], lineage_diff: LineageDiff, warehouse: _Warehouse
) -> str:
    label = f"{check.name} ({check.type})"
    if check.type not in SERVER_RUN_TYPES and check.type not in WAREHOUSE_RUN_TYPES:
        return f"[Skipped] {label}: a manual check"
    ctx = None
    if check.type in WAREHOUSE_RUN_TYPES:
        ctx = warehouse.context(lineage_diff)
        if ctx is None and warehouse.skip is not None:
            return f"[Skipped] {label}: {warehouse.skip}"
    run = Run(type=check.type, params=check.params or {}, check_id=check.check_id)
    run.name = check.name
    started = time.monotonic()
    try:
        if check.type in WAREHOUSE_RUN_TYPES:
            if ctx is None:
                assert warehouse.problem is not None
                raise warehouse.problem
            from recce_trio.warehouse.runner import execute_run

            output = execute_run(check.type, dict(run.params or {}), ctx)
            run.result, run.params = output.result, output.params
        else:
            run.result = runs.execute(check.type, run.params or {}, lineage_diff)
        run.status = FINISHED
    except RecceTrioError as exc:
        run.error, run.status = str(exc), FAILED
    run.duration = round(time.monotonic() - started, 3)
    history.append(run)
    if run.status == FAILED:
        return f"[Failed] {label}: {run.error}"
    if check.type == "schema_diff" and check.is_preset:
        check.is_checked = runs.schema_unchanged(run.result)
    return f"[Success] {label}" + (" - approved: no schema change" if check.is_checked else "")


@dataclass
class OfflineReview:
    """Artifacts, checklist and state-file parts loaded synchronously, for one command."""

    artifacts: LoadedArtifacts
    checklist: Checklist
    sources: dict[tuple[str, str], Source]
    state_loaded: bool
    git: msgspec.Raw | dict[str, Any] | None = None
    pull_request: msgspec.Raw | dict[str, Any] | None = None

    def encode(self) -> bytes:
        checks_json, runs_json = statefile.encode_records(
            self.checklist.checks, self.checklist.runs
        )
        return statefile.encode_state(
            checks_json=checks_json,
            runs_json=runs_json,
            artifacts=read_sources(self.sources),
            git=self.git,
            pull_request=self.pull_request,
        )


def _require_base(config: ServerConfig) -> None:
    # One environment only when asked for (--single-env): a missing base would otherwise show
    # "no changes" and pass a CI job that should fail.
    raise ArtifactNotFoundError(
        f"The base environment's artifacts are missing: {config.target_base_dir} is not a folder.",
        path=config.target_base_dir,
        hint=f"Build them on the base branch with `dbt docs generate --target-path "
        f"{config.target_base_path}`, or pass --single-env to compare {config.target_path} "
        "with itself (nothing will show as changed).",
    )


def load_offline(config: ServerConfig, *, state_file: Path | None, review: bool) -> OfflineReview:
    """Like the server's load: review mode reads everything from ``state_file``; otherwise
    target/ and target-base/ are read and ``state_file`` (if it exists) merged in."""
    from recce_trio.core.artifacts import read_catalog, read_manifest

    recce_state = statefile.read_state(state_file) if state_file is not None else None
    if review:
        if recce_state is None or state_file is None:
            raise statefile.StateFileError(
                f"{state_file} does not exist; a summary from a state file needs one.",
                path=state_file or "",
            )
        artifacts = review_artifacts(recce_state, path=state_file)
        sources: dict[tuple[str, str], Source] = {
            key: recce_state.artifact(*key) for key in ARTIFACT_KEYS
        }
    else:
        target_base_dir = config.target_dir if config.single_env else config.target_base_dir
        paths = ArtifactPaths.from_dirs(config.target_dir, target_base_dir)
        current_manifest = read_manifest(paths.current_manifest)
        if paths.single_env and not config.single_env:
            _require_base(config)
        paths = dataclasses.replace(paths, single_env=paths.single_env or config.single_env)
        base_manifest = current_manifest if paths.single_env else read_manifest(paths.base_manifest)

        def catalog(path: Path) -> Any:
            return read_catalog(path) if path.exists() else None

        current_catalog = catalog(paths.current_catalog)
        base_catalog = current_catalog if paths.single_env else catalog(paths.base_catalog)
        artifacts = LoadedArtifacts(
            base_manifest=base_manifest,
            current_manifest=current_manifest,
            base_catalog=base_catalog,
            current_catalog=current_catalog,
            single_env=paths.single_env,
        )
        sources = file_sources(paths)
        if recce_state is not None and state_file is not None:
            artifacts = merge_newer_artifacts(artifacts, sources, recce_state, path=state_file)
    checklist = Checklist()
    if recce_state is not None:
        checklist.merge(recce_state.checks, recce_state.runs)
    return OfflineReview(
        artifacts=artifacts,
        checklist=checklist,
        sources=sources,
        state_loaded=recce_state is not None,
        git=recce_state.git if recce_state else git_branch(config.project_dir),
        pull_request=recce_state.pull_request if recce_state else None,
    )
