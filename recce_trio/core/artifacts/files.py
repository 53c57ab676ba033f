"""Where the four artifacts of a review live, and their names in progress and timings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# (environment, kind) in the order Recce loads and reports them.
ARTIFACTS: tuple[tuple[str, str], ...] = (
    ("current", "manifest"),
    ("base", "manifest"),
    ("current", "catalog"),
    ("base", "catalog"),
)
PERF_NAMES = {"current": "curr", "base": "base"}


def artifact_key(env: str, kind: str) -> str:
    """Recce's name for an artifact: ``curr_manifest``, ``base_catalog``, ..."""
    return f"{PERF_NAMES[env]}_{kind}"


@dataclass(frozen=True)
class ArtifactPaths:
    """The four files, and whether there is a base environment at all."""

    current_manifest: Path
    current_catalog: Path
    base_manifest: Path
    base_catalog: Path
    single_env: bool

    @classmethod
    def from_dirs(cls, target_dir: Path, target_base_dir: Path) -> ArtifactPaths:
        single_env = not target_base_dir.is_dir()
        base_dir = target_dir if single_env else target_base_dir
        return cls(
            current_manifest=target_dir / "manifest.json",
            current_catalog=target_dir / "catalog.json",
            base_manifest=base_dir / "manifest.json",
            base_catalog=base_dir / "catalog.json",
            single_env=single_env,
        )

    def path(self, env: str, kind: str) -> Path:
        path: Path = getattr(self, f"{env}_{kind}")
        return path
