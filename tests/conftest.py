from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "dbt-artifacts"
STATE_CORPUS = REPO.parent / "shared" / "corpus" / "recce-state"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder with target/ and target-base/ (one model modified)."""
    from tests.artifact_json import write_project

    return write_project(tmp_path)
