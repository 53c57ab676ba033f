"""Exceptions that reach a user: each says what is wrong and how to fix it, and carries the
HTTP status and the public message a client is given when it ends a request."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

# What a client is told about a failure of the server itself; the traceback goes to the log.
INTERNAL_ERROR_DETAIL = "Internal server error. The server log has the details."


class RecceTrioError(Exception):
    """Base of every error recce-trio raises on purpose.

    The message states what is wrong; ``hint`` (may be empty) says what to do about it.
    ``status`` is the HTTP status when the error ends a request (500 unless a subclass or
    the raiser says otherwise). Only the class name ever reaches ``/api/health``.
    """

    status: ClassVar[int] = 500
    body_key: ClassVar[str] = "detail"  # Recce's (FastAPI's) key of an error body

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if not self.hint:
            return self.message
        # Two sentences: the message ends with a full stop before the hint begins.
        stop = "" if self.message.rstrip().endswith((".", "!", "?", ":")) else "."
        return f"{self.message.rstrip()}{stop} {self.hint}"

    @property
    def http_status(self) -> int:
        return type(self).status

    def public_detail(self) -> Any:
        """What an HTTP client is told. A client's mistake is explained to it; a failure of
        the server is not (its message may name server paths), only logged."""
        return str(self) if self.http_status < 500 else INTERNAL_ERROR_DETAIL


class RequestError(RecceTrioError):
    """A request the server cannot do as asked: the client's mistake, explained to it (400,
    or the given status: 404, 405, 409, 413, ...). ``detail`` replaces the message in the
    body when Recce's clients expect another shape (FastAPI's 422 list of problems)."""

    status = 400

    def __init__(
        self, message: str, *, status: int | None = None, detail: Any = None, hint: str = ""
    ) -> None:
        super().__init__(message, hint=hint)
        self._status = status
        self._detail = detail

    @property
    def http_status(self) -> int:
        return self._status if self._status is not None else type(self).status

    def public_detail(self) -> Any:
        return self._detail if self._detail is not None else str(self)


class NotFoundError(RequestError):
    """What the request names does not exist (404)."""

    status = 404


class ConflictError(RequestError):
    """The request clashes with what exists, e.g. a file it must not overwrite (409)."""

    status = 409


class PayloadTooLargeError(RequestError):
    """A body or a field over its documented size limit (413)."""

    status = 413


class InvalidRequestError(RequestError):
    """A field of the wrong type or a missing one: 422 with FastAPI's list of problems, the
    body Recce's clients get for the same mistake."""

    status = 422

    def __init__(self, loc: list[Any], msg: str, kind: str) -> None:
        super().__init__(
            f"{'.'.join(str(part) for part in loc)}: {msg}",
            detail=[{"type": kind, "loc": loc, "msg": msg}],
        )


class NotReadyError(RecceTrioError):
    """The API is closed: the startup load failed, timed out, or the server is stopping.
    The one error Recce writes as ``{"error": ...}`` (its readiness gate) with 503."""

    status = 503
    body_key = "error"

    def public_detail(self) -> Any:
        return self.message


class StateSaveError(RecceTrioError):
    """The state file could not be written (500). The message names the file by its name
    only, so it is safe to show; the full path goes to the log."""

    def public_detail(self) -> Any:
        return self.message


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
    """The path exists but cannot be read as a file: not a regular file (a directory, a FIFO, a
    device), no permission, an I/O error, or a decoder's memory cap reached."""


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

    status = 400


class TemplateError(RecceTrioError):
    """A run's ``sql_template`` cannot be rendered: bad Jinja, unknown model, var or macro."""

    status = 400  # the template is the client's


class MacroNotAvailableError(TemplateError):
    """The template calls a project or package macro, which needs the dbt extra."""

    def __init__(self, macro: str, *, hint: str = "") -> None:
        super().__init__(
            f"The SQL template calls the macro '{macro}', which recce-trio cannot run by itself.",
            hint=hint
            or "Macros run through the dbt extra (pip install 'recce-trio[dbt]'); "
            "or write the SQL the macro would produce.",
        )
        self.macro = macro


class MacroNotFoundError(TemplateError):
    """The template calls a macro that the environment's manifest does not have (dbt extra)."""

    def __init__(self, macro: str, env_name: str) -> None:
        super().__init__(
            f"The SQL template calls the macro '{macro}', which is not in the {env_name} manifest.",
            hint="Check the name and the package (pkg.macro); a new macro needs that "
            "environment's manifest.json rebuilt (dbt parse).",
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


class ExportQueryError(RecceTrioError):
    """An export's statement failed in the warehouse (502: the upstream failed, not the
    server). The message is the warehouse's, with credentials and hosts removed, as a failed
    run's ``error`` shows it, so the client is told."""

    status = 502

    def public_detail(self) -> Any:
        return self.message


class RunCancelledError(RecceTrioError):
    """The run was cancelled; its statement was interrupted in the warehouse."""

    def __init__(self, message: str = "Cancelled") -> None:
        super().__init__(message)


class ModelNotFoundError(RecceTrioError):
    """A run names a model that one environment's manifest does not have."""
