"""Reading the artifacts from files: found, missing (saying how to generate them), a folder,
a file the user may not read."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from recce_trio.core.artifacts import read_catalog, read_manifest
from recce_trio.errors import ArtifactNotFoundError, ArtifactReadError
from tests.unit.artifact_docs import catalog_doc, encode, manifest_doc


def test_read_manifest_and_catalog_from_files(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_bytes(encode(manifest_doc(12)))
    (tmp_path / "catalog.json").write_bytes(encode(catalog_doc()))
    assert read_manifest(tmp_path / "manifest.json").schema_version == 12
    assert read_catalog(tmp_path / "catalog.json").schema_version == 1


def test_missing_base_manifest_says_how_to_generate_it(tmp_path: Path) -> None:
    path = tmp_path / "target-base" / "manifest.json"
    with pytest.raises(ArtifactNotFoundError) as info:
        read_manifest(path)
    assert str(path) in str(info.value)
    assert "dbt docs generate --target-path target-base" in str(info.value)
    assert "base branch" in str(info.value)
    assert info.value.path == path


def test_missing_current_catalog_says_how_to_generate_it(tmp_path: Path) -> None:
    path = tmp_path / "target" / "catalog.json"
    with pytest.raises(ArtifactNotFoundError) as info:
        read_catalog(path)
    assert str(path) in str(info.value)
    assert "`dbt docs generate`" in str(info.value)


def test_a_directory_is_not_readable_as_a_manifest(tmp_path: Path) -> None:
    with pytest.raises(ArtifactReadError, match="is a directory"):
        read_manifest(tmp_path)


READ_MANIFEST = """
import sys
from recce_trio.core.artifacts import read_manifest
try:
    read_manifest(sys.argv[1])
except Exception as exc:
    print(type(exc).__name__, exc)
"""
# Root passes every permission check through two capabilities; without them it is refused
# like anyone else (setpriv, from util-linux, drops them for the child it starts).
AS_ROOT_WITHOUT_OVERRIDE = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_an_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_bytes(b"{}")
    path.chmod(0)
    prefix: list[str] = []
    if os.geteuid() == 0:  # as in CI
        if shutil.which("setpriv") is None:
            pytest.skip("running as root, and setpriv (util-linux) is missing to drop its rights")
        prefix = AS_ROOT_WITHOUT_OVERRIDE
    result = subprocess.run(
        [*prefix, sys.executable, "-c", READ_MANIFEST, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.stdout.strip() == (
        f"ArtifactReadError no permission to read {path}. "
        "Make the file readable by the user running recce-trio."
    ), result.stderr
