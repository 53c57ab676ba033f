"""The docs say what the settings table says (as datasette's test_settings_are_documented):
docs/deploy.md lists exactly its settings, and every flag the docs show exists in --help."""

from __future__ import annotations

import re

import click
import pytest

from recce_trio.cli import cli
from recce_trio.config import COMMANDS, SETTINGS, Setting, settings_for
from tests.conftest import REPO

DEPLOY = REPO / "docs" / "deploy.md"
MARKER = "<!-- settings table:"
COMMAND_LINE = re.compile(r"recce-trio (server|run|summary)\b(.*)")
FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z-]*|-o)\b")


def expected_row(row: Setting) -> list[str]:
    """flag | environment variables | default | commands | help, as docs/deploy.md writes
    them: the help is --help's, word for word."""
    flag = row.argument if row.argument else row.flag
    if row.metavar_text and not row.is_flag:
        flag = f"{flag} {row.metavar_text}"
    return [
        f"`{flag}`".replace("|", "\\|"),  # a pipe inside a table cell is escaped
        ", ".join(f"`{var}`" for var in row.env),
        f"`{row.default_text}`",
        ", ".join(c for c in COMMANDS if c in row.commands),
        row.help.replace("|", "\\|"),
    ]


def documented_rows() -> list[list[str]]:
    lines = DEPLOY.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(MARKER))
    rows = []
    for line in lines[start + 3 :]:  # after the marker, the header and the rule
        if not line.startswith("|"):
            break
        cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
        rows.append([cell.strip() for cell in cells])
    return rows


def test_deploy_md_lists_exactly_the_settings_table() -> None:
    documented = documented_rows()
    expected = [expected_row(row) for row in SETTINGS]
    table = "\n".join("| " + " | ".join(cells) + " |" for cells in expected)
    assert documented == expected, f"expected rows:\n{table}"


def command_flags(name: str) -> set[str]:
    command = cli.commands[name]
    flags = {"--help"}
    for param in command.params:
        if isinstance(param, click.Option):
            flags.update(param.opts, param.secondary_opts)
    return flags


def documented_command_lines() -> list[tuple[str, str, str]]:
    found = []
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for line in path.read_text().splitlines():
            for match in COMMAND_LINE.finditer(line):
                found.append((path.name, match.group(1), match.group(2)))
    return found


@pytest.mark.parametrize("where", documented_command_lines(), ids=lambda w: f"{w[0]}:{w[1]}")
def test_every_flag_the_docs_show_exists(where: tuple[str, str, str]) -> None:
    _, command, rest = where
    rest = rest.split("#")[0]  # a shell comment may name another command's flag
    unknown = set(FLAG.findall(rest)) - command_flags(command)
    assert not unknown, f"recce-trio {command} has no {sorted(unknown)}"


def test_the_server_synopsis_in_deploy_md_shows_every_option() -> None:
    text = DEPLOY.read_text()
    synopsis = text[text.index("recce-trio server [STATE_FILE]") :].split("```")[0]
    assert set(FLAG.findall(synopsis)) == command_flags("server") - {"--help"}


def test_the_synopsis_shows_the_defaults() -> None:
    text = DEPLOY.read_text()
    synopsis = text[text.index("recce-trio server [STATE_FILE]") :].split("```")[0]
    rows = {flag: row for row in SETTINGS for flag in row.flags}
    shown = re.findall(r"\[(--[a-z-]+) ([^\]]+)\]", synopsis)
    assert shown
    for flag, value in shown:
        row = rows[flag]
        assert value in (row.default_text, row.metavar, "|".join(row.choices)), flag


@pytest.mark.parametrize("command", ["server", "run", "summary"])
def test_the_options_of_each_command_come_from_the_table(command: str) -> None:
    own = {"server": set(), "run": {"-o", "--output", "--state-file", "--summary"}}
    from_table = {flag for row in settings_for(command) for flag in row.flags if flag[0] == "-"}
    assert command_flags(command) - {"--help"} - own.get(command, set()) == from_table
