"""Rendering a run's ``sql_template`` for one environment, in a Jinja sandbox.

Supported, as dbt defines them: ``ref('m')``, ``ref('pkg', 'm')``, ``ref('m', v=2)``,
``source('s', 't')``, ``var('x', default)``, ``env_var('X', default)``, ``config(...)``,
``is_incremental()``, ``target``, ``this`` (its schema and database: see ``TemplateThis``)
and ``adapter.quote()``. Project and package macros are not
available here: a ``MacroProvider`` (the dbt extra) supplies them; without one, calling a
macro raises ``MacroNotAvailableError`` naming it; with one, a macro it lacks raises
``MacroNotFoundError`` naming it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NoReturn, Protocol

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError
from jinja2 import TemplateError as JinjaTemplateError
from jinja2.sandbox import SandboxedEnvironment

from recce_trio.core.runsql.relations import Relation, RelationResolver
from recce_trio.errors import (
    MacroNotAvailableError,
    MacroNotFoundError,
    RecceTrioError,
    TemplateError,
)

_MISSING = object()


class MacroProvider(Protocol):
    """Supplies project and package macros (e.g. ``dbt_utils``) to a template.

    ``render(resolver, render)`` calls ``render(globals)`` with the extra globals for
    ``resolver``'s environment (callables and namespaces; they override the built-in ones,
    ``ref`` and ``source`` included) and returns its text; the provider may hold whatever
    the macros need meanwhile (a connection). The dbt extra implements it with dbt's own macro
    context (recce_trio/warehouse/dbt_macros.py).
    """

    def render(
        self, resolver: RelationResolver, render: Callable[[Mapping[str, Any]], str]
    ) -> str: ...


class _MacroUndefined(StrictUndefined):
    """An unknown name: ``a.b`` stays undefined as "a.b"; calling it names the macro."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in ("unsafe_callable", "alters_data"):
            raise AttributeError(name)  # the sandbox's own probes, not template attributes
        return _MacroUndefined(name=f"{self._undefined_name}.{name}")

    def __call__(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise MacroNotAvailableError(str(self._undefined_name))


class _UnknownMacroUndefined(_MacroUndefined):
    """With a macro provider: a name it does not know is a macro the manifest lacks."""

    __slots__ = ()
    env_name = "current"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in ("unsafe_callable", "alters_data"):
            raise AttributeError(name)
        return type(self)(name=f"{self._undefined_name}.{name}")

    def __call__(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise MacroNotFoundError(str(self._undefined_name), self.env_name)


class TemplateThis:
    """``this`` in a SQL template. In dbt it is the relation of the model being built, and a
    template builds none. As in Recce, its ``database`` and ``schema`` are the target's (the
    current environment's, on both sides), so ``this.schema`` works; ``{{ this }}`` itself
    is refused, saying why: Recce renders a made-up relation there that no warehouse holds,
    so the statement would fail on a missing table."""

    def __init__(self, target: Mapping[str, Any] | None) -> None:
        target = target or {}
        self.database = target.get("database")
        self.schema = target.get("schema")

    def __str__(self) -> str:
        raise self._refused("{{ this }}")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in ("unsafe_callable", "alters_data"):
            raise AttributeError(name)  # the sandbox's own probes
        raise self._refused(f"this.{name}")

    @staticmethod
    def _refused(what: str) -> TemplateError:
        return TemplateError(
            f"{what} names no table in a SQL template: in dbt, 'this' is the model being "
            "built, and a template builds none.",
            hint="Use ref('<model>') for a model's table; this.schema and this.database "
            "give the target's schema and database.",
        )


class _Adapter:
    """The small part of dbt's ``adapter`` object that needs no dbt."""

    def __init__(self, quote: Callable[[str], str]) -> None:
        self.quote = quote


def _make_env(undefined: type[StrictUndefined]) -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=undefined, autoescape=False)


_ENV = _make_env(_MacroUndefined)


class _UnknownInBase(_UnknownMacroUndefined):
    __slots__ = ()
    env_name = "base"


_ENVS_WITH_MACROS = {
    "base": _make_env(_UnknownInBase),
    "current": _make_env(_UnknownMacroUndefined),
}


def render_sql(
    template: str,
    *,
    resolver: RelationResolver,
    project_vars: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    target: Mapping[str, Any] | None = None,
    macros: MacroProvider | None = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """The template rendered for ``resolver``'s environment; ``TemplateError`` if it cannot be.

    ``env`` is the process environment for ``env_var()``; ``target`` the safe part of the
    profile target (name, schema, type...); ``extra`` overrides any context name.
    """
    env = env or {}
    project_vars = project_vars or {}

    def ref(*args: str, version: Any = None, v: Any = None, **_: Any) -> Relation:
        if not 1 <= len(args) <= 2:
            raise TemplateError(f"ref() takes a model name and an optional package, not {args}")
        package, name = (args[0], args[1]) if len(args) == 2 else (None, args[0])
        return resolver.ref(name, package=package, version=v if v is not None else version)

    def source(source_name: str, table_name: str) -> Relation:
        return resolver.source(source_name, table_name)

    def var(name: str, default: Any = _MISSING) -> Any:
        if name in project_vars:
            return project_vars[name]
        if default is _MISSING:
            raise TemplateError(
                f"Required var '{name}' not found in the project's vars.",
                hint="Give var() a default, or add it under 'vars:' in dbt_project.yml.",
            )
        return default

    def env_var(name: str, default: Any = _MISSING) -> Any:
        if name in env:
            return env[name]
        if default is _MISSING:
            raise TemplateError(f"Environment variable '{name}' is required but not set.")
        return default

    context: dict[str, Any] = {
        "ref": ref,
        "source": source,
        "var": var,
        "env_var": env_var,
        "config": lambda *a, **k: "",
        "is_incremental": lambda: False,
        "log": lambda *a, **k: "",
        "target": dict(target or {}),
        "adapter": _Adapter(resolver.dialect.quote),
    }
    if macros is None:
        return _render(_ENV, template, context, extra)
    jinja = _ENVS_WITH_MACROS.get(resolver.env_name, _ENVS_WITH_MACROS["current"])
    return macros.render(
        resolver, lambda more: _render(jinja, template, {**context, **more}, extra)
    )


def _render(
    jinja: SandboxedEnvironment,
    template: str,
    context: dict[str, Any],
    extra: Mapping[str, Any] | None,
) -> str:
    # From the target the template sees (dbt's own, through a macro provider).
    context.setdefault("this", TemplateThis(context.get("target")))
    if extra:
        context.update(extra)
    try:
        return jinja.from_string(template).render(context)
    except RecceTrioError:
        raise
    except TemplateSyntaxError as e:
        message = f"Jinja syntax error in the SQL template, line {e.lineno}: {e.message}"
        raise TemplateError(message) from None
    except UndefinedError as e:
        raise TemplateError(f"The SQL template uses an unknown name: {e.message}") from None
    except JinjaTemplateError as e:
        raise TemplateError(f"The SQL template cannot be rendered: {e}") from None
    except (TypeError, ValueError) as e:
        raise TemplateError(f"The SQL template cannot be rendered: {e}") from None
