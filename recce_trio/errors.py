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
