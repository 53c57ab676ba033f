"""The `recce-trio` command line: turns options into a config and runs the one `trio.run`."""

from __future__ import annotations

import difflib
import gc
import inspect
import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from recce_trio import __version__, settings
from recce_trio.config import ServerConfig, Setting, settings_for
from recce_trio.errors import ConfigError

if TYPE_CHECKING:
    from hypercorn.config import Config as HypercornConfig

    from recce_trio.server.decoders import DecoderProcess


class SettingOption(click.Option):
    """An option made from a row of the settings table. Its help shows the environment
    variables and the default as the table says; click never reads the environment for it
    (``settings.load`` does, once, the same way for every entry point)."""

    def __init__(self, *args: Any, setting: Setting, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setting = setting

    def resolve_envvar_value(self, ctx: click.Context) -> str | None:
        return None

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        record = super().get_help_record(ctx)
        if record is None:
            return None
        return record[0], f"{record[1]}  [{_help_extra(self.setting)}]"


def _help_extra(row: Setting) -> str:
    extra = [f"env var: {', '.join(row.env)}"] if row.env else []
    return "; ".join([*extra, f"default: {row.default_text}"])


def settings_options(command: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The click options (and arguments) of ``command``, from the settings table. A
    positional argument's help goes into the command's help text."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        rows = settings_for(command)
        arguments = [row for row in rows if row.argument]
        if arguments:
            func.__doc__ = (
                inspect.cleandoc(func.__doc__ or "")
                + "\n\n"
                + "\n\n".join(
                    f"{row.argument}: {row.help} [{_help_extra(row)}]" for row in arguments
                )
            )
        for row in reversed(rows):
            if row.argument:
                func = click.argument(row.name, required=False, metavar=f"[{row.argument}]")(func)
                continue
            kind: dict[str, Any] = {"metavar": row.metavar_text or None}
            if row.is_flag:  # "--watch/--no-watch" says it is a flag by itself
                kind = {} if "/" in row.flag else {"is_flag": True}
            func = click.option(
                row.flag,
                row.name,
                cls=SettingOption,
                setting=row,
                default=None,
                envvar=list(row.env) or None,
                show_envvar=False,  # SettingOption shows it with the default, as the docs do
                help=row.help,
                **kind,
            )(func)
        return func

    return decorate


def load_settings(command: str, given: dict[str, Any], **kwargs: Any) -> ServerConfig:
    """``settings.load`` for a command; a bad setting exits 2, as a bad option does."""
    ctx = click.get_current_context()
    typed = {
        name: value
        for name, value in given.items()
        if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
    }
    try:
        return settings.load(command, typed, **kwargs)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None


@click.group()
@click.version_option(__version__, prog_name="recce-trio")
def cli() -> None:
    """Review what a dbt change does: lineage diff, schema diff, checks, from the artifacts."""


@cli.command()
@settings_options("server")
def server(**given: Any) -> None:
    """Serve the review of target/ against target-base/ on http://127.0.0.1:8000.

    The port opens at once; the artifacts load in the background. /api/health answers
    throughout, and the rest of the API opens when the load is done.
    """
    config = load_settings("server", given)
    prefetched = _start_decoding(config)
    try:
        hypercorn = build_hypercorn_config(
            config.hypercorn_config, host=config.host, port=config.port
        )
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    if config.review and (config.state_file is None or not config.state_file.is_file()):
        where = f" ({config.state_file} does not exist)" if config.state_file else ""
        click.echo(
            f"Error: review mode needs a state file{where}. Pass the recce_state.json to review.",
            err=True,
        )
        sys.exit(1)
    if config.state_file_read_only:
        click.echo(
            f"Warning: {config.state_file} is read-only: the review is served read-only, "
            "and changes to its checks cannot be saved.",
            err=True,
        )
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
    configure_logging(config.log_level)
    run_server = import_web_stack()
    sys.exit(run_server(config, hypercorn, prefetched=prefetched))


def import_web_stack() -> Callable[..., int]:
    """``server.serve.run_server``, imported with the cyclic collector off: Trio, Hypercorn and
    Quart make ~50,000 objects that live as long as the process, and collecting over them as
    they arrive (~150 collections) took ~90 ms of CPU before the port could open. What the
    imports made is then frozen out of later collections, and the collector is on again."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        from recce_trio.server.serve import run_server
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
    return run_server


def _start_decoding(config: ServerConfig) -> dict[str, DecoderProcess]:
    """Start the artifacts' decoder processes as soon as the settings are known: the checks
    below and the web stack's imports take a few hundred milliseconds, which the decode
    overlaps. Should a check then refuse to start (exit 1 or 2), the decoders end with this
    process (``server/leash.py``)."""
    if config.loader != "process" or config.review:
        return {}
    from recce_trio.core.artifacts.files import ArtifactPaths
    from recce_trio.server.decoders import start_decoders

    return start_decoders(ArtifactPaths.from_dirs(config.target_dir, config.target_base_dir))


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


@contextmanager
def _step(label: str) -> Iterator[None]:
    """Say on stderr what is being done and, once done, how long it took (stdout stays
    clean for the output itself)."""
    click.echo(f"recce-trio: {label}...", err=True)
    start = time.perf_counter()
    yield
    click.echo(f"recce-trio: {label}: done in {time.perf_counter() - start:.2f} s", err=True)


def _warn_single_env(config: ServerConfig) -> None:
    if config.single_env:
        click.echo(
            f"Warning: single-environment mode ({config.sources['single_env']}): "
            f"{config.target_path} is compared with itself, so nothing shows as changed.",
            err=True,
        )


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@cli.command()
@click.argument("state_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@settings_options("summary")
def summary(state_file: Path | None, **given: Any) -> None:
    """Print a markdown summary for a pull request comment.

    From STATE_FILE (its artifacts and checks) if given, else from target/ and target-base/.
    Exits 1 if the input cannot be read, or if target-base/ is missing (unless --single-env).
    """
    from recce_trio.ci import load_offline
    from recce_trio.core.diff import build_lineage_diff
    from recce_trio.core.summary import build_summary, summary_cll
    from recce_trio.errors import RecceTrioError

    config = load_settings("summary", given, from_state_file=state_file is not None)
    if state_file is None:
        _warn_single_env(config)
    try:
        with _step(f"loading the artifacts from {state_file or config.project_dir}"):
            offline = load_offline(config, state_file=state_file, review=state_file is not None)
    except RecceTrioError as exc:
        _fail(str(exc))
    a = offline.artifacts
    with _step("comparing base and current"):
        lineage_diff = build_lineage_diff(
            a.base_manifest, a.base_catalog, a.current_manifest, a.current_catalog
        )
    checklist = offline.checklist
    with _step("analysing the changes (column-level lineage)"):
        cll = summary_cll(a, lineage_diff)
    click.echo(build_summary(lineage_diff, checklist.checks, checklist.runs, cll=cll), nl=False)


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
@settings_options("run")
def run_command(
    output: Path, state_file: Path | None, summary_path: Path | None, **given: Any
) -> None:
    """Run the checks and write the state file (for CI).

    Runs the preset checks of recce.yml (or the checks of --state-file): schema and lineage
    diffs are computed from the artifacts; checks that need a warehouse run in the warehouse
    of the dbt profile (--profiles-dir, --profile, --target), and are kept but skipped when
    no profile is configured. Exits 0 even when checks fail or are skipped; 1 when the
    artifacts, the state file or recce.yml cannot be read, or when target-base/ is missing
    (unless --single-env).
    """
    from recce_trio.ci import run_checks
    from recce_trio.errors import RecceTrioError

    config = load_settings("run", given)
    _warn_single_env(config)
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
