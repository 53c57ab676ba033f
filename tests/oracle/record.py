#!/usr/bin/env python
"""Record dbt-core's own answers to selectors, for the oracle tests of recce-trio.

Needs dbt-core and dbt-duckdb importable (a dev-only venv; recce-trio itself never imports dbt).
For the base project and each case of ``cases.py`` it builds the project with dbt-duckdb
(``deps``, ``seed``, ``run``, ``snapshot``, ``docs generate``), keeps the artifacts, and asks
``dbt ls --select SEL [--exclude EXC] --state <base target> --output json
--output-keys unique_id resource_type`` for every selector of ``cases.SELECTORS``, through
dbt's Python API in this one process (``dbtRunner``; the current manifest is parsed once per
case and handed to each ``ls``). No resource-type flag is passed, so the answers are what plain
``dbt ls`` prints: every resource type but ``analysis`` (dbt ls's default), tests and unit
tests included.

Writes, per case, under ``--out`` (default ``tests/fixtures/oracle``)::

    <case>/target-base/manifest.json.gz   the base build's artifacts, byte for byte
    <case>/target-base/catalog.json.gz
    <case>/target/manifest.json.gz        the case's build
    <case>/target/catalog.json.gz
    <case>/expected.json                  {"dbt_version": ..., "answers": [...]}

The base artifacts are the same bytes in every case (one build; gzip with mtime 0), so git
stores them once.

Usage::

    python tests/oracle/record.py [--out DIR] [--work DIR] [--demo DIR] [CASE ...]

``--demo DIR`` also writes the ``mixed`` case's artifacts, uncompressed, to
``DIR/target`` and ``DIR/target-base`` (recce-trio's demo).
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ORACLE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = ORACLE_DIR / "project"
REPO_ROOT = ORACLE_DIR.parent.parent
DEFAULT_OUT = REPO_ROOT / "tests" / "fixtures" / "oracle"

ARTIFACTS = ("manifest.json", "catalog.json")
BUILD_STEPS = (["deps"], ["seed"], ["run"], ["snapshot"], ["docs", "generate"])
_IGNORE = shutil.ignore_patterns(
    "target", "dbt_packages", "logs", "package-lock.yml", "*.duckdb", "*.duckdb.wal", "__pycache__"
)


def _load_sibling(name: str) -> Any:
    """Import a module of this folder by path, under a name that cannot clash."""
    modname = f"recce_trio_oracle_{name}"
    if modname in sys.modules:
        return sys.modules[modname]
    spec = importlib.util.spec_from_file_location(modname, ORACLE_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    spec.loader.exec_module(module)
    return module


# cases.py imports its parts as tests.oracle.*: the repository on sys.path (a script has only
# its own folder there).
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
cases_mod = _load_sibling("cases")


def dbt_available() -> bool:
    try:
        import dbt.adapters.duckdb
        import dbt.cli.main  # noqa: F401
    except ImportError:
        return False
    return True


class DbtError(RuntimeError):
    pass


class Dbt:
    """dbt's Python API, one process, quiet; warnings are collected per call."""

    def __init__(self) -> None:
        os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        os.environ.setdefault("DBT_VERSION_CHECK", "false")
        from dbt.version import __version__ as dbt_version

        self.version = dbt_version
        try:
            from dbt.adapters.duckdb.__version__ import version as duckdb_version
        except ImportError:  # pragma: no cover
            duckdb_version = "?"
        self.adapter_version = duckdb_version
        self.warnings: list[str] = []
        from dbt.task.list import ListTask

        self.ls_default_resource_types = sorted(str(t) for t in ListTask.DEFAULT_RESOURCE_VALUES)

    def _callback(self, event: Any) -> None:
        if event.info.level in ("warn", "error"):
            self.warnings.append(event.info.name)

    def invoke(
        self, args: list[str], project_dir: Path, *, manifest: Any = None, log_level: str = "warn"
    ) -> Any:
        from dbt.cli.main import dbtRunner

        self.warnings = []
        os.environ["ORACLE_DUCKDB_DIR"] = str(project_dir)
        full = [
            *args,
            "--project-dir",
            str(project_dir),
            "--profiles-dir",
            str(project_dir),
            "--log-path",
            str(project_dir / "logs"),
            "--log-level",
            log_level,
            "--log-level-file",
            "none",
        ]
        cwd = os.getcwd()
        os.chdir(project_dir)
        try:
            result = dbtRunner(manifest=manifest, callbacks=[self._callback]).invoke(full)
        finally:
            os.chdir(cwd)
        if not result.success:
            raise DbtError(f"dbt {' '.join(args)} failed in {project_dir}: {result.exception}")
        return result

    def build(self, project_dir: Path, *, catalog: bool = True) -> list[str]:
        warnings: list[str] = []
        steps = BUILD_STEPS if catalog else (["deps"], ["parse"])
        for step in steps:
            self.invoke(step, project_dir)
            warnings += self.warnings
        return warnings

    def parse(self, project_dir: Path) -> Any:
        return self.invoke(["parse"], project_dir).result

    def ls(
        self,
        project_dir: Path,
        state_dir: Path,
        select: str | None,
        exclude: str | None,
        manifest: Any,
    ) -> tuple[dict[str, str], list[str]]:
        args = ["ls"]
        if select is not None:
            args += ["--select", select]
        if exclude is not None:
            args += ["--exclude", exclude]
        args += [
            "--state",
            str(state_dir),
            "--output",
            "json",
            "--output-keys",
            "unique_id resource_type",
        ]
        result = self.invoke(args, project_dir, manifest=manifest, log_level="none")
        found: dict[str, str] = {}
        for line in result.result:
            item = json.loads(line)
            found[item["unique_id"]] = item["resource_type"]
        return found, sorted(set(self.warnings))


def copy_project(dest: Path) -> None:
    shutil.copytree(PROJECT_DIR, dest, ignore=_IGNORE)


def apply_edits(project_dir: Path, edits: tuple[Any, ...]) -> None:
    for edit in edits:
        path = project_dir / edit.path
        if isinstance(edit, cases_mod.Replace):
            text = path.read_text()
            count = text.count(edit.old)
            if count != 1:
                raise ValueError(f"{edit.path}: expected one {edit.old!r}, found {count}")
            path.write_text(text.replace(edit.old, edit.new))
        elif isinstance(edit, cases_mod.Write):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(edit.text)
        elif isinstance(edit, cases_mod.Delete):
            path.unlink()
        else:  # pragma: no cover
            raise TypeError(edit)


def write_gz(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(gzip.compress(src.read_bytes(), compresslevel=9, mtime=0))


def build_base(dbt: Dbt, work: Path) -> Path:
    """Build the base project once; return the folder holding its artifacts (the --state)."""
    base = work / "base"
    copy_project(base)
    dbt.build(base)
    state = work / "target-base"
    state.mkdir(parents=True, exist_ok=True)
    for name in ARTIFACTS:
        shutil.copy2(base / "target" / name, state / name)
    return state


def record_case(dbt: Dbt, case: Any, state_dir: Path, work: Path, out_dir: Path) -> dict:
    project = work / case.name
    copy_project(project)
    apply_edits(project, case.edits)
    build_warnings = dbt.build(project, catalog=case.catalog)

    out_dir.mkdir(parents=True, exist_ok=True)
    for name in ARTIFACTS:
        if (state_dir / name).exists():
            write_gz(state_dir / name, out_dir / "target-base" / f"{name}.gz")
        if (project / "target" / name).exists():
            write_gz(project / "target" / name, out_dir / "target" / f"{name}.gz")

    manifest = dbt.parse(project)
    answers = []
    for select, exclude in (*cases_mod.SELECTORS, *case.extra_selectors):
        found, warnings = dbt.ls(project, state_dir, select, exclude, manifest)
        for unique_id, resource_type in found.items():
            # The consumers read the resource type off the id; make sure that is sound.
            if unique_id.split(".", 1)[0] != resource_type:
                raise DbtError(f"{unique_id} has resource_type {resource_type}")
        answers.append(
            {
                "select": select,
                "exclude": exclude,
                "unique_ids": sorted(found),
                "dbt_warnings": warnings,
            }
        )
    expected = {
        "dbt_version": dbt.version,
        "adapter": f"dbt-duckdb {dbt.adapter_version}",
        "case": case.name,
        "description": case.description,
        "notes": case.notes,
        "command": "dbt ls [--select SELECT] [--exclude EXCLUDE] --state target-base "
        "--output json --output-keys unique_id resource_type",
        # No --resource-type / --exclude-resource-type flag is passed: dbt ls's default set.
        "resource_type_flags": [],
        "ls_default_resource_types": dbt.ls_default_resource_types,
        "build_warnings": sorted(set(build_warnings)),
        "answers": answers,
    }
    (out_dir / "expected.json").write_text(dump_expected(expected))
    return expected


def dump_expected(expected: dict) -> str:
    """JSON with one line per answer: compact, and a change of answer is a one-line diff."""
    head = {k: v for k, v in expected.items() if k != "answers"}
    lines = ["{"]
    for key, value in head.items():
        lines.append(f"  {json.dumps(key)}: {json.dumps(value)},")
    lines.append('  "answers": [')
    answers = [json.dumps(a) for a in expected["answers"]]
    lines.append(",\n".join(f"    {a}" for a in answers))
    lines.append("  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_demo(work: Path, state_dir: Path, demo_dir: Path, case_name: str = "mixed") -> None:
    for sub, src in (("target-base", state_dir), ("target", work / case_name / "target")):
        dest = demo_dir / sub
        dest.mkdir(parents=True, exist_ok=True)
        for name in ARTIFACTS:
            shutil.copyfile(src / name, dest / name)


def record_all(
    out_root: Path,
    case_names: list[str] | None = None,
    *,
    work: Path | None = None,
    demo_dir: Path | None = None,
    log: Any = print,
) -> dict[str, dict]:
    if not dbt_available():
        raise RuntimeError("dbt-core and dbt-duckdb are needed: see tests/oracle/record.py")
    selected = [
        cases_mod.CASES_BY_NAME[name] for name in (case_names or [c.name for c in cases_mod.CASES])
    ]
    if demo_dir is not None and "mixed" not in [c.name for c in selected]:
        selected.append(cases_mod.CASES_BY_NAME["mixed"])
    dbt = Dbt()
    own_work = work is None
    work_dir = Path(tempfile.mkdtemp(prefix="recce-trio-oracle-")) if own_work else work
    assert work_dir is not None
    results: dict[str, dict] = {}
    try:
        started = time.monotonic()
        state_dir = build_base(dbt, work_dir)
        log(f"base built in {time.monotonic() - started:.1f} s (dbt {dbt.version})")
        for case in selected:
            t0 = time.monotonic()
            results[case.name] = record_case(dbt, case, state_dir, work_dir, out_root / case.name)
            log(f"{case.name}: {time.monotonic() - t0:.1f} s")
        if demo_dir is not None:
            write_demo(work_dir, state_dir, demo_dir)
        log(f"total {time.monotonic() - started:.1f} s")
    finally:
        if own_work:
            shutil.rmtree(work_dir, ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", help="case names (default: all)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--work", type=Path, help="keep the built projects here")
    parser.add_argument("--demo", type=Path, help="also write the demo artifacts here")
    args = parser.parse_args(argv)
    if args.work is not None:
        if args.work.exists():
            shutil.rmtree(args.work)
        args.work.mkdir(parents=True)
    record_all(args.out, args.cases or None, work=args.work, demo_dir=args.demo)
    return 0


if __name__ == "__main__":
    sys.exit(main())
