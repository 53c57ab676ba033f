"""The layers stay visible and one-way: a pure core, the server on top, the CLI on top of that."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "recce_trio"
MAX_MODULE_LINES = 400

# Lower layers never import higher ones. Leaves (errors, settings, the package root with its
# version) may be imported from anywhere.
LAYERS = {
    "recce_trio": 0,
    "recce_trio.errors": 0,
    "recce_trio.config": 0,
    "recce_trio.settings": 0,
    "recce_trio.core": 1,
    "recce_trio.warehouse": 2,
    "recce_trio.ci": 3,
    "recce_trio.server": 3,
    "recce_trio.asgi": 4,
    "recce_trio.cli": 4,
    "recce_trio.__main__": 4,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_only(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def imports_of(name: str) -> set[str]:
    """Every recce_trio module that ``name`` imports at run time, function-level imports
    included (``if TYPE_CHECKING:`` blocks excluded: they never run)."""
    tree = ast.parse(MODULES[name].read_text())
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _type_checking_only(node):
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("recce_trio"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base.startswith("recce_trio"):
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    found.add(sub if sub in MODULES else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    found.discard(name)
    return {m for m in found if m in MODULES}


GRAPH = {name: imports_of(name) for name in MODULES}


def layer(name: str) -> int:
    best = max((p for p in LAYERS if name == p or name.startswith(p + ".")), key=len)
    return LAYERS[best]


def test_the_core_imports_no_trio_quart_or_hypercorn_in_a_fresh_interpreter() -> None:
    core = [m for m in MODULES if m.startswith("recce_trio.core")]
    code = (
        "import importlib, sys\n"
        f"for m in {core!r}: importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('trio', 'quart', 'quart_trio', 'hypercorn', 'werkzeug', 'click'))\n"
        "print(','.join(bad))\n"
    )
    env_path = str(PACKAGE.parent)
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
    ).stdout.strip()
    assert out == "", f"importing the core loaded {out}"


def test_the_offline_commands_import_no_web_stack() -> None:
    code = (
        "import sys, recce_trio.ci\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('trio', 'quart', 'quart_trio', 'hypercorn'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(PACKAGE.parent), "PATH": "/usr/bin:/bin"},
    ).stdout.strip()
    assert out == "", f"recce_trio.ci loaded {out}"


def test_the_import_graph_has_no_cycle() -> None:
    # Tarjan's strongly connected components over every run-time import.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def strongconnect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in GRAPH:
        if v not in index:
            strongconnect(v)
    assert cycles == []


def test_imports_go_one_way_between_layers() -> None:
    upward = sorted(
        f"{src} -> {dst}" for src, dsts in GRAPH.items() for dst in dsts if layer(dst) > layer(src)
    )
    assert upward == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_over_400_lines(name: str) -> None:
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{MODULES[name].name} has {lines} lines"


# The tests and the benchmarks keep to the same size.
REPO = PACKAGE.parent
SCRIPTS = sorted(
    str(p.relative_to(REPO)) for folder in ("tests", "bench") for p in (REPO / folder).rglob("*.py")
)


def test_the_tests_and_benchmarks_are_found() -> None:
    assert "tests/unit/test_architecture.py" in SCRIPTS and "bench/startup.py" in SCRIPTS


@pytest.mark.parametrize("name", SCRIPTS)
def test_no_test_or_benchmark_module_is_over_400_lines(name: str) -> None:
    lines = len((REPO / name).read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{name} has {lines} lines"


# The page's own ES modules (the vendored libraries are not ours to split).
UI = PACKAGE / "ui"
UI_MODULES = sorted(
    str(p.relative_to(UI)) for p in UI.rglob("*.js") if "vendor" not in p.relative_to(UI).parts
)


def test_the_ui_modules_are_found() -> None:
    assert {"app.js", "graph.js"} <= set(UI_MODULES)


@pytest.mark.parametrize("name", UI_MODULES)
def test_no_ui_module_is_over_400_lines(name: str) -> None:
    lines = len((UI / name).read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"ui/{name} has {lines} lines"


def test_only_the_gateway_leaves_the_event_loop() -> None:
    # Blocking work has one way out (recce_trio/server/gateway.py), with named limiters.
    callers = sorted(
        name
        for name, path in MODULES.items()
        if "to_thread" in path.read_text() and name != "recce_trio.server.gateway"
    )
    assert callers == []
