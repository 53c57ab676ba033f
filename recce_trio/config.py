"""The server's settings: one frozen record built from defaults < environment < command line."""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recce_trio.errors import ConfigError

DEMO_DIR = Path(__file__).resolve().parent / "demo"
LOADERS = ("process", "thread")

# Environment variable -> field. RECCE_STARTUP_TIMEOUT is Recce's own name; the rest follow it.
ENV_VARS: dict[str, str] = {
    "RECCE_PROJECT_DIR": "project_dir",
    "DBT_PROJECT_DIR": "project_dir",
    "RECCE_TARGET_PATH": "target_path",
    "RECCE_TARGET_BASE_PATH": "target_base_path",
    "RECCE_STATE_FILE": "state_file",
    "RECCE_REVIEW": "review",
    "RECCE_STARTUP_TIMEOUT": "startup_timeout_s",
    "RECCE_LIFETIME": "lifetime_s",
    "RECCE_IDLE_TIMEOUT": "idle_timeout_s",
    "RECCE_LOADER": "loader",
    "RECCE_DEMO": "demo",
    "RECCE_UI_DIR": "ui_dir",
    "RECCE_WATCH": "watch",
}


@dataclass(frozen=True, kw_only=True)
class ServerConfig:
    """Where the artifacts are and how the server behaves. Paths are kept as given."""

    project_dir: Path = Path(".")
    target_path: Path = Path("target")
    target_base_path: Path = Path("target-base")
    state_file: Path | None = None
    review: bool = False
    startup_timeout_s: float = 300.0
    lifetime_s: float = 0.0
    idle_timeout_s: float = 0.0
    loader: str = "process"
    demo: bool = False
    ui_dir: Path | None = None
    watch: bool = True

    def __post_init__(self) -> None:
        if not self.startup_timeout_s > 0:
            raise ConfigError(f"startup timeout must be > 0 seconds, got {self.startup_timeout_s}")
        if self.lifetime_s < 0:
            raise ConfigError(f"lifetime must be >= 0 seconds (0 = off), got {self.lifetime_s}")
        if self.idle_timeout_s < 0:
            raise ConfigError(
                f"idle timeout must be >= 0 seconds (0 = off), got {self.idle_timeout_s}"
            )
        if self.loader not in LOADERS:
            raise ConfigError(f"loader must be one of {', '.join(LOADERS)}, got {self.loader!r}")

    @property
    def target_dir(self) -> Path:
        """The current environment's artifact folder."""
        return self._project_root / self.target_path

    @property
    def target_base_dir(self) -> Path:
        """The base environment's artifact folder."""
        return self._project_root / self.target_base_path

    @property
    def _project_root(self) -> Path:
        return DEMO_DIR if self.demo else self.project_dir

    @property
    def effective_idle_timeout_s(self) -> float:
        """Recce caps the idle timeout at the lifetime when both are set."""
        if self.lifetime_s > 0 and self.idle_timeout_s > self.lifetime_s:
            return self.lifetime_s
        return self.idle_timeout_s

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ServerConfig:
        """Build from field names to raw values (strings converted); unknown keys refused."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, raw in values.items():
            if key not in fields:
                close = difflib.get_close_matches(key, fields, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ConfigError(f"unknown setting {key!r}{hint}")
            if raw is None:
                continue
            kwargs[key] = _convert(key, fields[key].type, raw)
        return cls(**kwargs)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ServerConfig:
        """Settings from ``RECCE_*`` environment variables, then ``overrides`` (non-None win)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for var, field in ENV_VARS.items():
            if environ.get(var, "") != "" and field not in values:
                values[field] = environ[var]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_mapping(values)


def _convert(key: str, annotation: Any, raw: Any) -> Any:
    kind = str(annotation)
    if not isinstance(raw, str):
        return Path(raw) if "Path" in kind and not isinstance(raw, Path) else raw
    if "bool" in kind:
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{key} must be true or false, got {raw!r}")
    if "float" in kind:
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{key} must be a number of seconds, got {raw!r}") from None
    if "Path" in kind:
        return Path(raw)
    return raw
