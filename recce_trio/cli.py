"""The `recce-trio` command line: turns options into a config and runs the one `trio.run`."""

from __future__ import annotations

import difflib
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from recce_trio import __version__
from recce_trio.config import ServerConfig
from recce_trio.errors import ConfigError

if TYPE_CHECKING:
    from hypercorn.config import Config as HypercornConfig

LOG_LEVELS = ("debug", "info", "warning", "error")


@click.group()
@click.version_option(__version__, prog_name="recce-trio")
def cli() -> None:
    """Review what a dbt change does: lineage diff, schema diff, checks, from the artifacts."""


@cli.command()
@click.argument("state_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--host",
    default=None,
    help="Address to listen on. [default: 127.0.0.1, this machine only; 0.0.0.0 exposes the "
    "server to your network, e.g. inside a container]",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Port to listen on; 0 picks a free one. [default: 8000]",
)
@click.option(
    "--project-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    envvar="DBT_PROJECT_DIR",
    help="The dbt project folder that holds the target folders. [default: .]",
)
@click.option(
    "--target-path",
    type=click.Path(path_type=Path),
    default=None,
    help="Current environment's artifacts, relative to the project dir. [default: target]",
)
@click.option(
    "--target-base-path",
    type=click.Path(path_type=Path),
    default=None,
    help="Base environment's artifacts, relative to the project dir. Without it the server "
    "starts in single-environment mode. [default: target-base]",
)
@click.option(
    "--review", is_flag=True, default=None, help="Review mode: artifacts from STATE_FILE."
)
@click.option(
    "--startup-timeout",
    type=float,
    default=None,
    envvar="RECCE_STARTUP_TIMEOUT",
    show_envvar=True,
    help="Seconds the artifact load may take before the API answers 503. [default: 300]",
)
@click.option(
    "--lifetime",
    type=float,
    default=None,
    help="Shut down this many seconds after the load completes; 0 = never. [default: 0]",
)
@click.option(
    "--idle-timeout",
    type=float,
    default=None,
    help="Shut down after this many seconds without requests (health probes do not count); "
    "0 = never. Capped at --lifetime. [default: 0]",
)
@click.option(
    "--hypercorn-config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A Hypercorn TOML config whose settings apply; these options win over it.",
)
@click.option("--log-level", type=click.Choice(LOG_LEVELS), default="info", show_default=True)
@click.option(
    "--demo", is_flag=True, default=None, help="Serve the bundled demo artifacts (a small shop)."
)
@click.option(
    "--ui-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Serve this static UI build instead of the built-in page.",
)
@click.option(
    "--watch/--no-watch",
    default=None,
    help="Reload when dbt rewrites the artifacts, and tell open pages to refresh. [default: watch]",
)
@click.option(
    "--loader",
    type=click.Choice(["process", "thread"]),
    default=None,
    help="Decode artifacts in child processes (keeps the server responsive) or in threads. "
    "[default: process]",
)
def server(
    state_file: Path | None,
    host: str | None,
    port: int | None,
    hypercorn_config: Path | None,
    log_level: str,
    **options: Any,
) -> None:
    """Serve the review of target/ against target-base/ on http://127.0.0.1:8000.

    The port opens at once; the artifacts load in the background. /api/health answers
    throughout, and the rest of the API opens when the load is done.
    """
    try:
        config = ServerConfig.from_env(
            state_file=state_file,
            startup_timeout_s=options.pop("startup_timeout"),
            lifetime_s=options.pop("lifetime"),
            idle_timeout_s=options.pop("idle_timeout"),
            **options,
        )
        hypercorn = build_hypercorn_config(hypercorn_config, host=host, port=port)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    if config.review and (config.state_file is None or not config.state_file.is_file()):
        where = f" ({config.state_file} does not exist)" if config.state_file else ""
        click.echo(
            f"Error: review mode needs a state file{where}. Pass the recce_state.json to review.",
            err=True,
        )
        sys.exit(1)
    if not config.review and not config.demo:
        # A bad recce.yml is refused before binding, as Recce does (exit 1).
        from recce_trio.core.checks import CONFIG_FILE, PresetCheckError, read_preset_checks

        try:
            read_preset_checks(config.project_dir / CONFIG_FILE)
        except PresetCheckError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)
    if config.idle_timeout_s > config.effective_idle_timeout_s:
        click.echo(
            f"Warning: the idle timeout ({config.idle_timeout_s:.0f} s) is longer than the "
            f"lifetime; using {config.effective_idle_timeout_s:.0f} s.",
            err=True,
        )
    configure_logging(log_level)
    prefetched = {}
    if config.loader == "process" and not config.review:
        # Start decoding now: the web stack's imports below take a few hundred milliseconds.
        from recce_trio.core.artifacts.files import ArtifactPaths
        from recce_trio.server.decoders import start_decoders

        prefetched = start_decoders(
            ArtifactPaths.from_dirs(config.target_dir, config.target_base_dir)
        )
    from recce_trio.server.serve import run_server

    sys.exit(run_server(config, hypercorn, prefetched=prefetched))


def build_hypercorn_config(
    path: Path | None, *, host: str | None, port: int | None
) -> HypercornConfig:
    """Hypercorn's settings from a TOML file (misspelled keys refused), then our flags."""
    from hypercorn.config import Config as HypercornConfig

    if path is not None:
        import tomllib

        try:
            with path.open("rb") as f:
                data = tomllib.load(f)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
        known = [name for name in dir(HypercornConfig) if not name.startswith("_")]
        for key in data:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ConfigError(f"{path}: unknown Hypercorn setting {key!r}{hint}")
        config = HypercornConfig.from_mapping(data)
    else:
        config = HypercornConfig()
        config.bind = ["127.0.0.1:8000"]
    if host is not None or port is not None or path is None or "bind" not in data:
        config.bind = [_bind(host or "127.0.0.1", 8000 if port is None else port)]
    if path is None or "graceful_timeout" not in data:
        config.graceful_timeout = 10.0
    if config.errorlog == "-":  # through our logging setup, so each line is printed once
        config.errorlog = logging.getLogger("hypercorn.error")
    return config


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _project_options(func: Any) -> Any:
    """--project-dir, --target-path, --target-base-path, as `server` takes them."""
    for option in reversed(
        [
            click.option(
                "--project-dir",
                type=click.Path(file_okay=False, path_type=Path),
                default=None,
                envvar="DBT_PROJECT_DIR",
                help="The dbt project folder that holds the target folders. [default: .]",
            ),
            click.option("--target-path", type=click.Path(path_type=Path), default=None,
                         help="Current environment's artifacts. [default: target]"),
            click.option("--target-base-path", type=click.Path(path_type=Path), default=None,
                         help="Base environment's artifacts. [default: target-base]"),
        ]
    ):  # fmt: skip
        func = option(func)
    return func


@contextmanager
def _step(label: str) -> Iterator[None]:
    """Say on stderr what is being done and, once done, how long it took (stdout stays
    clean for the output itself)."""
    click.echo(f"recce-trio: {label}...", err=True)
    start = time.perf_counter()
    yield
    click.echo(f"recce-trio: {label}: done in {time.perf_counter() - start:.2f} s", err=True)


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@cli.command()
@click.argument("state_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@_project_options
def summary(state_file: Path | None, **options: Any) -> None:
    """Print a markdown summary for a pull request comment.

    From STATE_FILE (its artifacts and checks) if given, else from target/ and target-base/.
    Exits 1 if the input cannot be read.
    """
    from recce_trio.ci import load_offline
    from recce_trio.core.diff import build_lineage_diff
    from recce_trio.core.summary import build_summary
    from recce_trio.errors import RecceTrioError

    try:
        config = ServerConfig.from_mapping(options)
        with _step(f"loading the artifacts from {state_file or config.project_dir}"):
            offline = load_offline(config, state_file=state_file, review=state_file is not None)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    except RecceTrioError as exc:
        _fail(str(exc))
    a = offline.artifacts
    with _step("comparing base and current"):
        lineage_diff = build_lineage_diff(
            a.base_manifest, a.base_catalog, a.current_manifest, a.current_catalog
        )
    checklist = offline.checklist
    click.echo(build_summary(lineage_diff, checklist.checks, checklist.runs), nl=False)


@cli.command(name="run")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("recce_state.json"),
    show_default=True,
    help="Where to write the state file.",
)
@click.option(
    "--state-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Start from this state file: its checks are run instead of the presets.",
)
@click.option(
    "--summary",
    "summary_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the markdown summary to this file.",
)
@_project_options
def run_command(
    output: Path, state_file: Path | None, summary_path: Path | None, **options: Any
) -> None:
    """Run the checks that need no warehouse and write the state file (for CI).

    Runs the preset checks of recce.yml (or the checks of --state-file): schema and lineage
    diffs are computed, checks that need a warehouse are kept but skipped. Exits 0 even when
    checks fail or are skipped; 1 when the artifacts, the state file or recce.yml cannot be read.
    """
    from recce_trio.ci import run_checks
    from recce_trio.errors import RecceTrioError

    try:
        config = ServerConfig.from_mapping(options)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        with _step("loading the artifacts and running the checks"):
            report = run_checks(
                config, state_file=state_file, output=output, summary_path=summary_path
            )
    except RecceTrioError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot write {exc.filename or output}: {exc.strerror}")
    for line in report:
        click.echo(line)


@cli.command()
def version() -> None:
    """Print the version."""
    click.echo(__version__)


def main() -> None:
    cli()
