"""The one funnel for settings: every entry point reads its settings through ``load``.

Precedence, the same for `recce-trio server`, `run`, `summary` and `recce_trio.asgi:app`:
command line > environment variables (the first one set, in the table's order) > default.
Every value gets the same check whatever its source, and the error names the flag or the
variable. Then the paths are checked against the file system, before anything is served.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from recce_trio.config import SERVE, ServerConfig, refuse_unknown, settings_for
from recce_trio.errors import ConfigError


def load(
    command: str,
    given: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    from_state_file: bool = False,
) -> ServerConfig:
    """The one funnel: the settings of ``command`` from the command line (``given``: field
    name -> value, None = not given), else the environment, else the default; each checked the
    same way whatever its source, then the paths checked against the file system.

    ``from_state_file``: the artifacts come from a state file (``summary STATE_FILE``), so
    the artifact folders are not looked at. Raises ``ConfigError`` naming the flag or the
    variable at fault.
    """
    environ = os.environ if environ is None else environ
    given = {k: v for k, v in (given or {}).items() if v is not None}
    refuse_unknown(given)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for row in settings_for(command):
        if row.name in given:
            raw = given[row.name]
            source = row.flags[-1] if raw is False else row.flags[0]  # "--no-watch"
        else:
            var = next((v for v in row.env if environ.get(v, "") != ""), None)
            if var is None:
                continue
            raw, source = environ[var], var
        values[row.name] = row.parse(raw, source)
        sources[row.name] = source
    config = ServerConfig(**values, sources=sources)
    if not from_state_file and not config.review:
        _check_base_folder(config)
    if command in SERVE:
        config = dataclasses.replace(config, state_file_read_only=_check_state_file(config))
    return config


def _check_base_folder(config: ServerConfig) -> None:
    # Falling back to one environment is for a missing default folder only: a path the user
    # gave and that is not there is a typo, and a silent fallback would show "no changes".
    source = config.sources.get("target_base_path")
    if source is not None and not config.target_base_dir.is_dir():
        raise ConfigError(
            f"{source}: the base environment's folder {str(config.target_base_dir)!r} does "
            "not exist. Check the path, or build the base artifacts there with `dbt docs "
            f"generate --target-path {config.target_base_path}` on the base branch."
        )


def _check_state_file(config: ServerConfig) -> bool:
    """Whether a --review state file can only be read. Without --review, refuses (before
    anything is served) a state file the server could not save the review to."""
    path = config.state_file
    if path is None:
        return False
    if config.review:  # whether it exists at all is the command's to say
        return path.is_file() and _unwritable(path) is not None
    problem = _unwritable(path)
    if problem is not None:
        source = config.sources.get("state_file", "STATE_FILE")
        raise ConfigError(
            f"{source}: the state file {str(path)!r} {problem}. Pass a state file the "
            "server can save the review to, or use --review to serve one read-only."
        )
    return False


def _unwritable(path: Path) -> str | None:
    # The rules of core.state.write_atomic, which follows a symlink and writes beside its target.
    folder = Path(os.path.realpath(path)).parent
    if path.is_dir():
        return "is a folder"
    if not folder.is_dir():
        return f"cannot be created: its folder {str(folder)!r} does not exist"
    if not os.access(folder, os.W_OK | os.X_OK):  # a save writes a temporary file beside it
        return f"cannot be saved: its folder {str(folder)!r} is not writable"
    if path.exists():
        # The mode bits count even for root.
        mode = stat.S_IMODE(path.stat().st_mode)
        if not os.access(path, os.W_OK) or not mode & 0o222:
            return "is read-only"
    return None
