"""recce-trio's selector against dbt-core's recorded answers (tests/fixtures/oracle).

The answers were recorded by tests/oracle/record.py with real dbt; this test needs no dbt.
See tests/oracle/compare.py for how both sides are restricted before comparing.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent.parent
FIXTURES = TESTS_DIR / "fixtures" / "oracle"


def _load_compare():
    name = "recce_trio_oracle_compare"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, TESTS_DIR / "oracle" / "compare.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


CASES = sorted(p.name for p in FIXTURES.iterdir() if (p / "expected.json").is_file())


def test_fixtures_exist():
    assert len(CASES) >= 10


@pytest.mark.parametrize("case", CASES)
def test_selector_matches_dbt(case: str):
    mismatches = _load_compare().compare(FIXTURES / case)
    assert not mismatches, "\n".join(mismatches)
