"""Live oracle: record dbt-core's answers afresh and compare recce-trio's selector with them.

Runs only where dbt-core and dbt-duckdb are installed (the dev-only ``oracle`` tox env); skipped
everywhere else. dbt runs in a subprocess (tests/oracle/record.py), so none of its global state
(logging, flags, adapters, warnings) leaks into this process.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

ORACLE_DIR = Path(__file__).resolve().parent
COMMITTED = ORACLE_DIR.parent / "fixtures" / "oracle"


def _have_dbt() -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return (
                importlib.util.find_spec("dbt.cli.main") is not None
                and importlib.util.find_spec("dbt.adapters.duckdb") is not None
            )
        except ImportError:
            return False


pytestmark = pytest.mark.skipif(not _have_dbt(), reason="dbt-core and dbt-duckdb not installed")


def _load(name: str):
    modname = f"recce_trio_oracle_{name}"
    if modname not in sys.modules:
        spec = importlib.util.spec_from_file_location(modname, ORACLE_DIR / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[modname] = module
        spec.loader.exec_module(module)
    return sys.modules[modname]


CASE_NAMES = [case.name for case in _load("cases").CASES]


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("oracle")
    subprocess.run(
        [sys.executable, str(ORACLE_DIR / "record.py"), "--out", str(out)],
        check=True,
        timeout=1200,
    )
    return out


@pytest.mark.parametrize("case", CASE_NAMES)
def test_selector_matches_live_dbt(fresh: Path, case: str):
    mismatches = _load("compare").compare(fresh / case)
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("case", CASE_NAMES)
def test_committed_answers_are_current(fresh: Path, case: str):
    """The committed fixtures still say what dbt says (re-run record.py if not)."""
    committed = COMMITTED / case / "expected.json"
    assert committed.is_file(), f"no committed fixture for {case}: run tests/oracle/record.py"
    recorded = json.loads(committed.read_text())
    now = json.loads((fresh / case / "expected.json").read_text())
    if recorded["dbt_version"] != now["dbt_version"]:
        pytest.skip(f"recorded with dbt {recorded['dbt_version']}, running {now['dbt_version']}")
    diffs = _load("compare").compare_answers(recorded, now)
    assert not diffs, "\n".join(diffs)
