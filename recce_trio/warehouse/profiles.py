"""dbt's profiles.yml, read as dbt reads it: where it is, which profile and target, env_var()."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import TemplateError as JinjaTemplateError
from jinja2.sandbox import SandboxedEnvironment

from recce_trio.config import DEMO_DIR, ServerConfig
from recce_trio.errors import ProfileError

PROFILES_FILE = "profiles.yml"
PROJECT_FILE = "dbt_project.yml"
# Keys whose rendered text dbt turns into numbers or booleans (its profile renderer does so
# for every value that reads as one; these are the keys where it matters to a driver).
_NUMERIC_KEYS = frozenset({"port", "threads", "connect_timeout", "keepalives_idle", "retries"})


@dataclass(frozen=True)
class WarehouseTarget:
    """One output of one profile: the adapter ``type``, ``threads`` and its settings.

    ``settings`` holds credentials: it is left out of ``repr`` and never logged; use
    ``describe()`` in messages.
    """

    profile: str
    target: str
    type: str
    threads: int
    settings: Mapping[str, Any] = field(repr=False)
    profiles_path: Path
    project_dir: Path | None = None
    # dbt_project.yml's vars as the root project sees them (its own scoped block merged in).
    project_vars: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def describe(self) -> str:
        """A description safe for logs and errors: no host, user or password."""
        return f"{self.type} (profile '{self.profile}', target '{self.target}')"

    def template_target(self) -> dict[str, Any]:
        """What ``{{ target }}`` shows in a sql_template: dbt's non-secret fields only."""
        safe = {k: self.settings[k] for k in ("schema", "database", "dbname") if k in self.settings}
        if "dbname" in safe:
            safe.setdefault("database", safe.pop("dbname"))
        return {
            "name": self.target,
            "profile_name": self.profile,
            "type": self.type,
            "threads": self.threads,
            **safe,
        }


def find_profiles_dir(
    profiles_dir: str | Path | None = None,
    *,
    project_dir: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> Path:
    """The folder holding profiles.yml: the explicit one, then ``DBT_PROFILES_DIR``, then the
    project folder when it has a profiles.yml, then ``~/.dbt``."""
    env = os.environ if env is None else env
    if profiles_dir is not None:
        return Path(profiles_dir).expanduser()
    if env.get("DBT_PROFILES_DIR"):
        return Path(env["DBT_PROFILES_DIR"]).expanduser()
    if project_dir is not None and (Path(project_dir) / PROFILES_FILE).is_file():
        return Path(project_dir)
    return (home or Path.home()) / ".dbt"


def load_target(
    *,
    profiles_dir: str | Path | None = None,
    project_dir: str | Path | None = None,
    profile: str | None = None,
    target: str | None = None,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> WarehouseTarget:
    """Read the warehouse target dbt would use; ``ProfileError`` naming the file and key if not.

    The profile defaults to ``profile:`` in the project's dbt_project.yml, the target to the
    profile's ``target:``. Strings are rendered with dbt's ``env_var('X', 'default')``.
    """
    env = os.environ if env is None else env
    project = Path(project_dir) if project_dir is not None else None
    project_yml = _read_project(project, env) if project is not None else {}
    folder = find_profiles_dir(profiles_dir, project_dir=project, env=env, home=home)
    path = folder / PROFILES_FILE
    profiles = _read_yaml(path, what="profiles file")
    if profile is None:
        profile = project_yml.get("profile")
        if not isinstance(profile, str) or not profile:
            where = f"{PROJECT_FILE} in the project folder" if project else "no project folder"
            raise ProfileError(
                f"No dbt profile chosen: there is no 'profile:' key ({where}).",
                hint="Pass --profile, or set 'profile:' in dbt_project.yml.",
            )
    names = sorted(k for k in profiles if k != "config")
    entry = profiles.get(profile)
    if not isinstance(entry, dict):
        raise ProfileError(
            f"Profile '{profile}' not found in {path.name} (in {folder}); "
            f"it has: {', '.join(names) or 'no profiles'}.",
            hint="Pass --profile with one of those names, or --profiles-dir.",
        )
    outputs = entry.get("outputs")
    if not isinstance(outputs, dict) or not outputs:
        raise ProfileError(f"Profile '{profile}' in {path} has no 'outputs:'.")
    if target is None:
        raw_target = entry.get("target")
        if raw_target is None:
            raise ProfileError(
                f"Profile '{profile}' in {path} has no 'target:' key.",
                hint="Pass --target, or set 'target:' in the profile.",
            )
        target = str(_render(raw_target, env, path, f"{profile}.target"))
    output = outputs.get(target)
    if not isinstance(output, dict):
        raise ProfileError(
            f"Target '{target}' not found in profile '{profile}' ({path}); "
            f"it has: {', '.join(sorted(map(str, outputs)))}.",
            hint="Pass --target with one of those names.",
        )
    settings = {
        str(k): _render(v, env, path, f"{profile}.outputs.{target}.{k}") for k, v in output.items()
    }
    adapter_type = settings.get("type")
    if not isinstance(adapter_type, str) or not adapter_type:
        raise ProfileError(f"Key '{profile}.outputs.{target}.type' is missing in {path}.")
    threads = _as_int(settings.get("threads", 1), path, f"{profile}.outputs.{target}.threads")
    raw_vars = project_yml.get("vars")
    project_name = project_yml.get("name")
    return WarehouseTarget(
        profile=profile,
        target=target,
        type=adapter_type.lower(),
        threads=max(1, threads),
        settings=settings,
        profiles_path=path,
        project_dir=project,
        project_vars=flatten_vars(
            raw_vars if isinstance(raw_vars, dict) else {},
            project_name if isinstance(project_name, str) else None,
        ),
    )


def _read_project(project: Path, env: Mapping[str, str]) -> dict[str, Any]:
    path = project / PROJECT_FILE
    if not path.is_file():
        return {}
    data = _read_yaml(path, what="dbt project file")
    raw = data.get("profile")
    if raw is not None:
        data["profile"] = _render(raw, env, path, "profile")
    return data


def _read_yaml(path: Path, *, what: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError(
            f"No {what} at {path}.",
            hint="Pass --profiles-dir, set DBT_PROFILES_DIR, or create ~/.dbt/profiles.yml.",
        ) from None
    except OSError as e:
        raise ProfileError(f"Cannot read the {what} {path}: {e.strerror}.") from None
    import yaml  # only a profile that exists pays for it (~30 ms), not every server start

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        # The YAML error text quotes the source line, which may hold a password: not shown.
        raise ProfileError(f"The {what} {path} is not valid YAML{where}.") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ProfileError(f"The {what} {path} is not a YAML mapping.")
    return data


class _EnvVarMissing(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _jinja(env: Mapping[str, str]) -> SandboxedEnvironment:
    jinja = SandboxedEnvironment()

    def env_var(name: str, default: Any = None) -> Any:
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise _EnvVarMissing(name)

    jinja.globals["env_var"] = env_var
    jinja.filters["as_number"] = _as_number
    jinja.filters["as_bool"] = lambda v: str(v).strip().lower() in {"true", "1", "yes"}
    jinja.filters["as_text"] = str
    jinja.filters["as_native"] = lambda v: v
    return jinja


def _render(value: Any, env: Mapping[str, str], path: Path, key: str) -> Any:
    """Render Jinja in one profile value (recursively); errors name the key, not the value."""
    if isinstance(value, dict):
        return {k: _render(v, env, path, f"{key}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_render(v, env, path, f"{key}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, str) or ("{{" not in value and "{%" not in value):
        return value
    try:
        rendered = _jinja(env).from_string(value).render()
    except _EnvVarMissing as e:
        raise ProfileError(
            f"Environment variable '{e.name}' is not set, and key '{key}' in {path} needs it "
            "(env_var() without a default).",
            hint=f"Set {e.name}, or give env_var() a default.",
        ) from None
    except JinjaTemplateError as e:
        raise ProfileError(
            f"Key '{key}' in {path} has invalid Jinja ({type(e).__name__})."
        ) from None
    if key.rsplit(".", 1)[-1] in _NUMERIC_KEYS:
        return _as_number(rendered)
    return rendered


def _as_number(value: Any) -> Any:
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return value


def _as_int(value: Any, path: Path, key: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ProfileError(f"Key '{key}' in {path} must be a whole number.") from None


def flatten_vars(raw: Mapping[str, Any], project_name: str | None) -> dict[str, Any]:
    """dbt_project.yml ``vars:`` as seen from the root project: global keys, then the
    project's own scoped block (``vars: {my_project: {x: 1}}``) over them."""
    flat = {k: v for k, v in raw.items() if not isinstance(v, dict)}
    if project_name and isinstance(raw.get(project_name), dict):
        flat.update(raw[project_name])
    return flat


DEMO_PROFILE = "recce_trio_demo"
DEMO_DB_VAR = "RECCE_TRIO_DEMO_DB"


def resolve_target(
    config: ServerConfig, environ: Mapping[str, str] | None = None
) -> WarehouseTarget | None:
    """The profile target the settings ask for, or None when no profile is configured (no
    profiles.yml where dbt would look, or no profile named anywhere). Blocks (reads files)."""
    environ = os.environ if environ is None else environ
    if config.demo:
        from recce_trio.demo.build_db import demo_db_path

        path = demo_db_path()  # built, if need be, when the connection is opened
        return load_target(
            profiles_dir=DEMO_DIR,
            profile=DEMO_PROFILE,
            target=config.target,
            env={**environ, DEMO_DB_VAR: str(path)},
        )
    project = None if config.review else config.project_dir
    explicit = config.profiles_dir is not None or bool(environ.get("DBT_PROFILES_DIR"))
    folder = find_profiles_dir(config.profiles_dir, project_dir=project, env=environ)
    if not explicit and not (folder / PROFILES_FILE).is_file():
        return None
    named = config.profile is not None or (
        project is not None and (project / PROJECT_FILE).is_file()
    )
    if not named and not explicit:
        return None
    return load_target(
        profiles_dir=config.profiles_dir,
        project_dir=project,
        profile=config.profile,
        target=config.target,
        env=environ,
    )


def safe_message(exc: BaseException, paths: tuple[Path | None, ...]) -> str:
    """The error's text with folders (the home, the profiles and project folders) cut to their
    last part: fit for a log line or a run's error."""
    text = str(exc) or type(exc).__name__
    for path in sorted({str(p) for p in paths if p is not None}, key=len, reverse=True):
        if len(path) > 1:
            text = text.replace(path, Path(path).name or "~")
    return text
