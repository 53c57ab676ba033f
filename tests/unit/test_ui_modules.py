"""The page's module lists: app.js and review.js ask for the modules of each step of the
page's load all at once (``<link rel=modulepreload>``), rather than one level of imports at a
time; each list must name exactly the modules that step imports and the steps before it did
not (one missing is loaded late, one too many is loaded for nothing)."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from recce_trio.server.api.page import BUILTIN_UI

# `import ... from "./x.js"`, `export ... from "./x.js"`, and `import "./x.js"`.
IMPORT = re.compile(
    r'^\s*(?:import|export)\s[^;]*?from\s+"(\.{1,2}/[^"]+)"|^\s*import\s+"(\.{1,2}/[^"]+)"', re.M
)


def static_imports(name: str) -> set[str]:
    """``name`` and every module it imports statically, transitively (paths under ui/)."""
    seen: set[str] = set()
    stack = [name]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        text = (BUILTIN_UI / current).read_text()
        for match in IMPORT.finditer(text):
            spec = match.group(1) or match.group(2)
            joined = PurePosixPath(current).parent / spec
            parts: list[str] = []
            for part in joined.parts:
                if part == "..":
                    parts.pop()
                elif part != ".":
                    parts.append(part)
            stack.append("/".join(parts))
    return seen


def listed(module: str, const: str) -> set[str]:
    text = (BUILTIN_UI / module).read_text()
    block = re.search(rf"export const {const} = \[(.*?)\];", text, re.S)
    assert block is not None, f"{module} has no {const}"
    return set(re.findall(r'"([^"]+)"', block.group(1)))


def test_the_first_views_modules_are_asked_for_at_once() -> None:
    before_ready = static_imports("app.js")
    assert listed("app.js", "FIRST_VIEW") == static_imports("review.js") - before_ready


def test_the_other_views_modules_are_asked_for_at_once() -> None:
    loaded = static_imports("app.js") | static_imports("review.js")
    assert listed("review.js", "PANELS") == static_imports("panels.js") - loaded


def test_while_the_server_loads_the_page_runs_only_its_progress_and_data_modules() -> None:
    # Each module more is a request and a script to compile on the cores the server loads on.
    assert static_imports("app.js") == {
        "app.js",
        "startup.js",
        "api.js",
        "dom.js",
        "lineage-data.js",
        "graph-paint.js",
        "router.js",
    }
