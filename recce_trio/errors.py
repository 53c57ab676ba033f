"""Exceptions that reach a user: each says what is wrong and how to fix it."""

from __future__ import annotations

from pathlib import Path


class RecceTrioError(Exception):
    """Base of every error recce-trio raises on purpose.

    The message states what is wrong; ``hint`` (may be empty) says what to do about it.
    Only the class name ever reaches ``/api/health``; the message goes to the server log.
    """

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class ConfigError(RecceTrioError):
    """A bad option, environment variable or config file."""


class ArtifactError(RecceTrioError):
    """A dbt artifact could not be used. ``path`` names the file."""

    def __init__(self, message: str, *, path: Path | str, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.path = Path(path)


class ArtifactNotFoundError(ArtifactError):
    """A required artifact file does not exist."""


class ArtifactReadError(ArtifactError):
    """The path exists but cannot be read as a file (a directory, no permission, I/O error)."""


class ArtifactDecodeError(ArtifactError):
    """The file is not valid JSON (truncated, empty, two documents) or has the wrong shape."""


class NotADbtArtifactError(ArtifactError):
    """Valid JSON, but not a dbt manifest or catalog."""


class UnsupportedSchemaVersionError(ArtifactError):
    """A dbt artifact of a schema version recce-trio does not know (e.g. written by a newer dbt)."""


class StartupTimeoutError(RecceTrioError):
    """Loading did not finish within the startup timeout."""


class ProfileError(ConfigError):
    """dbt's profiles.yml (or dbt_project.yml) cannot give a warehouse target.

    Messages name the file and the key, never a value: profiles hold passwords and hosts.
    """


class RunParamsError(RecceTrioError, ValueError):
    """A run's params are missing or invalid (HTTP 400 when submitted)."""


class TemplateError(RecceTrioError):
    """A run's ``sql_template`` cannot be rendered: bad Jinja, unknown model, var or macro."""


class MacroNotAvailableError(TemplateError):
    """The template calls a project or package macro, which needs the dbt extra."""

    def __init__(self, macro: str) -> None:
        super().__init__(
            f"The SQL template calls the macro '{macro}', which recce-trio cannot run by itself.",
            hint="Macros run through the dbt extra (pip install 'recce-trio[dbt]'); "
            "or write the SQL the macro would produce.",
        )
        self.macro = macro


class WarehouseError(RecceTrioError):
    """The warehouse failed a statement or could not be reached.

    The message carries the warehouse's own text with credentials and hosts removed;
    ``relation`` names the relation the statement was about, when there is one.
    """

    def __init__(self, message: str, *, relation: str | None = None, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.relation = relation


class WarehouseConnectError(WarehouseError):
    """The warehouse could not be opened (file missing, server refused, driver missing)."""


class ExternalAccessBlockedError(WarehouseError):
    """A DuckDB statement needed external access (files, URLs, extensions), which is off."""


class RunCancelledError(RecceTrioError):
    """The run was cancelled; its statement was interrupted in the warehouse."""

    def __init__(self, message: str = "Cancelled") -> None:
        super().__init__(message)


class ModelNotFoundError(RecceTrioError):
    """A run names a model that one environment's manifest does not have."""
