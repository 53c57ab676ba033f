from __future__ import annotations

import sys
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


def load_bench_module(name: str):  # type: ignore[no-untyped-def]
    """Import a script from bench/ (they are scripts, not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"bench_{name}", REPO / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the script runs
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:  # type: ignore[type-arg]
    """A generated 60-model base/current project and the summary of what differs."""
    make_artifacts = load_bench_module("make_artifacts")
    out = tmp_path_factory.mktemp("gen60")
    summary = make_artifacts.make_project(out, 60, seed=3)
    return out, summary
