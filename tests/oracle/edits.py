"""The oracle's change cases as data: a ``Case`` is a name, a description and file edits.

Edits are data, not code: ``Replace`` (an exact substring that must occur exactly once),
``Write`` (create or overwrite a file) and ``Delete``. Paths are relative to the project folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Replace:
    path: str
    old: str
    new: str


@dataclass(frozen=True)
class Write:
    path: str
    text: str


@dataclass(frozen=True)
class Delete:
    path: str


Edit = Replace | Write | Delete


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    edits: tuple[Edit, ...] = ()
    # Build the current environment (seed, run, snapshot, docs generate) so that catalog.json
    # exists. Every case does so here: the duckdb project builds in a few seconds.
    catalog: bool = True
    notes: str = ""
    extra_selectors: tuple[tuple[str | None, str | None], ...] = field(default=())
