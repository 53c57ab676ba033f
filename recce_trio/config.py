"""The settings table: each setting of recce-trio declared once, as a field of ServerConfig.

A field declared with ``setting(...)`` carries its default, flag, environment variables (in
precedence order), help text and rule. From this one table come the click options of
``server``, ``run`` and ``summary``, the environment reading of every entry point
(``recce_trio.settings.load``), the checks, and the table in docs/deploy.md (a test keeps the
docs equal to it).

A new setting is one more ``setting(...)`` field naming the commands that take it; the CLI,
the environment reading, the checks and the docs test pick it up.
"""

from __future__ import annotations

import dataclasses
import difflib
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from recce_trio.errors import ConfigError

DEMO_DIR = Path(__file__).resolve().parent / "demo"
LOADERS = ("process", "thread")
LOG_LEVELS = ("debug", "info", "warning", "error")
_TRUE, _FALSE = frozenset({"1", "true", "yes", "on"}), frozenset({"0", "false", "no", "off"})

# The entry points that read settings; "asgi" is `recce_trio.asgi:app` under the Hypercorn CLI.
COMMANDS = ("server", "run", "summary", "asgi")
SERVE = frozenset({"server", "asgi"})
SERVER_CLI = frozenset({"server"})
OFFLINE = frozenset({"run", "summary"})
ARTIFACT_DIRS = SERVE | OFFLINE
WAREHOUSE = SERVE | frozenset({"run"})  # the commands that run queries in the warehouse

_T = TypeVar("_T")
Rule = Callable[[Any], str | None]  # the broken rule ("must be ..."), or None when it holds


@dataclass(frozen=True, kw_only=True)
class Setting:
    """One row of the settings table (see ``setting``)."""

    help: str
    commands: frozenset[str]
    flag: str = ""  # as click declares it: "--port", "--watch/--no-watch"
    argument: str = ""  # or a positional argument of the command ("STATE_FILE")
    env: tuple[str, ...] = ()  # the first one that is set (and not empty) wins
    default: Any = None
    shown_default: str = ""  # the default as --help and the docs show it, if not ``default``
    metavar: str = ""
    choices: tuple[str, ...] = ()
    rule: Rule | None = None
    exists: str = ""  # "dir" or "file": the path must be one when the settings are loaded
    name: str = ""  # the ServerConfig field; filled in from the field
    kind: type = str  # the field's type without None; filled in from the field

    @property
    def flags(self) -> tuple[str, ...]:
        """The command-line spellings: ("--watch", "--no-watch"), ("--port",), ("STATE_FILE",)."""
        if self.argument:
            return (self.argument,)
        return tuple(self.flag.split("/")) if self.flag else ()

    @property
    def default_text(self) -> str:
        """The default as --help and docs/deploy.md show it."""
        if self.shown_default or self.default is None:
            return self.shown_default or "none"
        if isinstance(self.default, bool):
            return str(self.default).lower()
        return f"{self.default:g}" if isinstance(self.default, float) else str(self.default)

    @property
    def metavar_text(self) -> str:
        return f"[{'|'.join(self.choices)}]" if self.choices else self.metavar

    @property
    def is_flag(self) -> bool:
        return self.kind is bool

    def parse(self, raw: Any, source: str) -> Any:
        """``raw`` (a string from the environment or the command line, or a typed value)
        converted and checked; a ``ConfigError`` names ``source`` and the broken rule."""
        try:
            value = _convert(self.kind, raw)
        except ValueError as exc:
            raise ConfigError(f"{source}: {exc}, got {raw!r}") from None
        problem = self.problem(value)
        if problem:
            raise ConfigError(f"{source}: {problem}, got {raw!r}")
        if self.exists and value is not None:
            kind = "folder" if self.exists == "dir" else "file"
            path = Path(value)
            if not path.exists():
                raise ConfigError(f"{source}: {str(path)!r} does not exist")
            if (self.exists == "dir") != path.is_dir():
                raise ConfigError(f"{source}: {str(path)!r} is not a {kind}")
        return value

    def problem(self, value: Any) -> str | None:
        """The rule ``value`` breaks, or None. No file-system check here."""
        if self.choices and value not in self.choices:
            return f"must be one of {', '.join(self.choices)}"
        return self.rule(value) if self.rule is not None and value is not None else None


def setting(default: _T, **row: Any) -> _T:
    """A ``ServerConfig`` field that is also a row of the settings table."""
    return field(default=default, metadata={"setting": Setting(default=default, **row)})


def _more_than_zero(value: float) -> str | None:
    return None if value > 0 else "must be more than 0 seconds"


def _zero_or_more(value: float) -> str | None:
    return None if value >= 0 else "must be 0 (off) or more seconds"


def _port(value: int) -> str | None:
    return None if 0 <= value <= 65535 else "must be between 0 and 65535"


@dataclass(frozen=True, kw_only=True)
class ServerConfig:
    """All settings, checked. Paths are kept as given; build it with ``load`` to read the
    command line and the environment, or directly (tests) with field values."""

    host: str | None = setting(
        None,
        flag="--host",
        metavar="HOST",
        shown_default="127.0.0.1",
        commands=SERVER_CLI,
        help="Address to listen on. 127.0.0.1 is this machine only; 0.0.0.0 exposes the "
        "server to your network (e.g. inside a container). Wins over the Hypercorn "
        "config's bind.",
    )
    port: int | None = setting(
        None,
        flag="--port",
        metavar="PORT",
        shown_default="8000",
        rule=_port,
        commands=SERVER_CLI,
        help="Port to listen on; 0 picks a free one. Wins over the Hypercorn config's bind.",
    )
    project_dir: Path = setting(
        Path("."),
        flag="--project-dir",
        env=("RECCE_PROJECT_DIR", "DBT_PROJECT_DIR"),
        metavar="DIR",
        exists="dir",
        commands=ARTIFACT_DIRS,
        help="The dbt project folder that holds the target folders. Must exist.",
    )
    target_path: Path = setting(
        Path("target"),
        flag="--target-path",
        env=("RECCE_TARGET_PATH",),
        metavar="PATH",
        commands=ARTIFACT_DIRS,
        help="The current environment's artifacts, relative to the project dir.",
    )
    target_base_path: Path = setting(
        Path("target-base"),
        flag="--target-base-path",
        env=("RECCE_TARGET_BASE_PATH",),
        metavar="PATH",
        commands=ARTIFACT_DIRS,
        help="The base environment's artifacts, relative to the project dir. A path given "
        "here must exist. Without the default folder, server starts in single-environment "
        "mode, while run and summary fail unless --single-env is given.",
    )
    single_env: bool = setting(
        False,
        flag="--single-env",
        env=("RECCE_SINGLE_ENV",),
        commands=OFFLINE,
        help="Compare the current environment with itself, without a base environment "
        "(nothing shows as changed), instead of failing when the base is missing.",
    )
    state_file: Path | None = setting(
        None,
        argument="STATE_FILE",
        env=("RECCE_STATE_FILE",),
        commands=SERVE,
        help="The state file (checks, runs, artifacts) to load and to save the review to. "
        "It must be writable, unless --review.",
    )
    review: bool = setting(
        False,
        flag="--review",
        env=("RECCE_REVIEW",),
        commands=SERVE,
        help="Review mode: the artifacts come from STATE_FILE. A read-only STATE_FILE is "
        "served read-only.",
    )
    startup_timeout_s: float = setting(
        300.0,
        flag="--startup-timeout",
        env=("RECCE_STARTUP_TIMEOUT",),
        metavar="SECONDS",
        rule=_more_than_zero,
        commands=SERVE,
        help="Seconds the artifact load may take before the API answers 503.",
    )
    lifetime_s: float = setting(
        0.0,
        flag="--lifetime",
        env=("RECCE_LIFETIME",),
        metavar="SECONDS",
        rule=_zero_or_more,
        commands=SERVE,
        help="Shut down this many seconds after the load completes; 0 = never.",
    )
    idle_timeout_s: float = setting(
        0.0,
        flag="--idle-timeout",
        env=("RECCE_IDLE_TIMEOUT",),
        metavar="SECONDS",
        rule=_zero_or_more,
        commands=SERVE,
        help="Shut down after this many seconds without requests (health probes do not "
        "count); 0 = never. Capped at --lifetime.",
    )
    hypercorn_config: Path | None = setting(
        None,
        flag="--hypercorn-config",
        metavar="FILE",
        exists="file",
        commands=SERVER_CLI,
        help="A Hypercorn TOML config whose settings apply (see docs/hypercorn.toml); a "
        "misspelled key is refused.",
    )
    log_level: str = setting(
        "info",
        flag="--log-level",
        choices=LOG_LEVELS,
        commands=SERVER_CLI,
        help="How much the server logs.",
    )
    demo: bool = setting(
        False,
        flag="--demo",
        env=("RECCE_DEMO",),
        commands=SERVE,
        help="Serve the bundled demo artifacts (a small shop).",
    )
    ui_dir: Path | None = setting(
        None,
        flag="--ui-dir",
        env=("RECCE_UI_DIR",),
        metavar="DIR",
        shown_default="the built-in page",
        exists="dir",
        commands=SERVE,
        help="Serve this static UI build instead of the built-in page. Must exist.",
    )
    watch: bool = setting(
        True,
        flag="--watch/--no-watch",
        env=("RECCE_WATCH",),
        commands=SERVE,
        help="Reload when dbt rewrites the artifacts, and tell open pages to refresh.",
    )
    loader: str = setting(
        "process",
        flag="--loader",
        env=("RECCE_LOADER",),
        choices=LOADERS,
        commands=SERVE,
        help="Decode the manifests (and catalogs over 64 MiB) in child processes (keeps the "
        "server responsive), or everything in threads (see docs/startup.md).",
    )
    profiles_dir: Path | None = setting(
        None,
        flag="--profiles-dir",
        env=("RECCE_PROFILES_DIR", "DBT_PROFILES_DIR"),
        metavar="DIR",
        shown_default="the project dir if it has profiles.yml, else ~/.dbt",
        exists="dir",
        commands=WAREHOUSE,
        help="The folder holding dbt's profiles.yml, for the data diffs (query, row count, "
        "profile, value, top-k, histogram). Without a profiles.yml, those runs are off.",
    )
    profile: str | None = setting(
        None,
        flag="--profile",
        env=("RECCE_PROFILE", "DBT_PROFILE"),
        metavar="NAME",
        shown_default="profile: in dbt_project.yml",
        commands=WAREHOUSE,
        help="The profile of profiles.yml to connect with.",
    )
    target: str | None = setting(
        None,
        flag="--target",
        env=("RECCE_TARGET", "DBT_TARGET"),
        metavar="NAME",
        shown_default="the profile's target:",
        commands=WAREHOUSE,
        help="The profile's output (target) to connect with.",
    )
    duckdb_external_access: bool = setting(
        False,
        flag="--duckdb-external-access",
        env=("RECCE_DUCKDB_EXTERNAL_ACCESS",),
        commands=WAREHOUSE,
        help="Let DuckDB queries read files, URLs and extensions (off: the database is opened "
        "read-only and sealed).",
    )
    dbt_adapter: bool = setting(
        False,
        flag="--dbt-adapter",
        env=("RECCE_DBT_ADAPTER",),
        commands=WAREHOUSE,
        help="Open DuckDB and PostgreSQL through dbt too (the dbt extra), for macros in templates.",
    )
    # Not settings: where each value came from ("--port"...), whether a --review file is read-only.
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    state_file_read_only: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        for row in SETTINGS:
            problem = row.problem(getattr(self, row.name))
            if problem:
                raise ConfigError(f"{row.name}: {problem}, got {getattr(self, row.name)!r}")

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


def _kind(annotation: Any) -> type:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    kind = args[0] if args else annotation
    assert isinstance(kind, type)
    return kind


_HINTS = typing.get_type_hints(ServerConfig)
SETTINGS: tuple[Setting, ...] = tuple(
    dataclasses.replace(f.metadata["setting"], name=f.name, kind=_kind(_HINTS[f.name]))
    for f in dataclasses.fields(ServerConfig)
    if "setting" in f.metadata
)
ROWS = {row.name: row for row in SETTINGS}


def settings_for(command: str) -> tuple[Setting, ...]:
    """The rows a command takes, in table order."""
    if command not in COMMANDS:
        raise ValueError(f"unknown command {command!r}")
    return tuple(row for row in SETTINGS if command in row.commands)


def _convert(kind: type, raw: Any) -> Any:
    if not isinstance(raw, str):
        return Path(raw) if kind is Path and not isinstance(raw, Path) else raw
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered not in _TRUE | _FALSE:
            raise ValueError("must be true or false")
        return lowered in _TRUE
    if kind in (float, int):
        try:
            return kind(raw)
        except ValueError:
            expected = "a number of seconds" if kind is float else "a whole number"
            raise ValueError(f"must be {expected}") from None
    return Path(raw) if kind is Path else raw


def refuse_unknown(values: Mapping[str, Any]) -> None:
    for key in values:
        if key not in ROWS:
            close = difflib.get_close_matches(key, ROWS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"unknown setting {key!r}{hint}")
