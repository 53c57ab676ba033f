"""The lineage at scale in a real browser: the first view, folder groups, the minimap, the long
edges left out of a frame."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.artifact_json import manifest, write_project
from tests.browser.conftest import NO_PLAYWRIGHT, stop, wait_for_review
from tests.e2e.test_cli import Server

pytest.importorskip("playwright", reason=NO_PLAYWRIGHT)
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


@contextmanager
def served(page: Page, root: Path) -> Iterator[None]:
    """A server of the project at ``root``, its page open in ``page``; both stopped after."""
    server = Server(["server", "--port", "0", "--project-dir", str(root), "--no-watch"])
    try:
        page.goto(server.url)
        yield
    finally:
        stop(server, page)


def server_selection(url: str) -> list[str]:
    body = {"view_mode": "changed_models"}
    nodes: list[str] = httpx.post(f"{url}/api/select", json=body).json()["nodes"]
    return nodes


def shown_when_settled(page: Page) -> list[str]:
    """The shown ids once the server's answer to the first selection has been taken."""
    wait_for_review(page)
    page.wait_for_function("['kept', 'replaced'].includes(window.recce.app.metrics.provisional)")
    ids: list[str] = page.evaluate("window.recce.shownIds()")
    return ids


def test_first_view_drawn_from_the_lineage_is_the_servers_changed_models(page: Page) -> None:
    # The demo: models changed, added and removed, with parents and descendants.
    server = Server(["server", "--demo", "--port", "0", "--no-watch"])
    try:
        page.goto(server.url)
        shown = shown_when_settled(page)
        assert sorted(shown) == server_selection(server.url)
        # The page's own reading was the server's: drawn once, not replaced.
        assert page.evaluate("window.recce.app.metrics.provisional") == "kept"
    finally:
        stop(server, page)


def test_the_servers_selection_wins_where_the_lineage_reads_it_otherwise(
    page: Page, tmp_path: Path
) -> None:
    # orders changed; `blank`, below it, has empty SQL, and dbt never selects an empty model,
    # which the lineage cannot tell. The first view shows it; the server's answer takes it out.
    project = write_project(
        tmp_path / "project",
        base=manifest({"stg_orders": "select 1", "orders": "select 2", "blank": " "}),
        current=manifest({"stg_orders": "select 1", "orders": "select 3", "blank": " "}),
    )
    server = Server(["server", "--port", "0", "--project-dir", str(project), "--no-watch"])
    try:
        page.goto(server.url)
        shown = shown_when_settled(page)
        assert page.evaluate("window.recce.app.metrics.provisional") == "replaced"
        assert sorted(shown) == server_selection(server.url)
        assert "model.shop.blank" not in shown
    finally:
        stop(server, page)


# ---- grouped by folder ----


def drawn(page: Page) -> dict[str, str | None]:
    """What the canvas draws: each drawn node's id and, for a folder, its counts line."""
    nodes: dict[str, str | None] = page.evaluate(
        "Object.fromEntries(window.recce.graph.nodes.map((n) => [n.id, n.tag ?? null]))"
    )
    return nodes


def click_drawn(page: Page, node_id: str) -> None:
    position = page.evaluate("(id) => window.recce.screenPosition(id)", node_id)
    assert position is not None, f"{node_id} is not drawn"
    page.mouse.click(position["x"], position["y"])


def in_view(page: Page, node_id: str) -> bool:
    position = page.evaluate("(id) => window.recce.screenPosition(id)", node_id)
    box = page.locator("#graph").bounding_box()
    assert box is not None
    return (
        position is not None
        and box["x"] < position["x"] < box["x"] + box["width"]
        and box["y"] < position["y"] < box["y"] + box["height"]
    )


def test_group_by_folder_expand_a_folder_and_open_a_node_inside_one(
    page: Page, generated: tuple[Path, dict[str, Any]]
) -> None:
    root, _ = generated
    with served(page, root):
        shown = shown_when_settled(page)
        folder_of: dict[str, str] = page.evaluate(
            "(ids) => Object.fromEntries(ids.map((id) => "
            "[id, window.recce.app.lineage.nodes[id].folder]))",
            shown,
        )
        status_of: dict[str, str | None] = page.evaluate(
            "(ids) => Object.fromEntries(ids.map((id) => "
            "[id, window.recce.app.lineage.nodes[id].change_status]))",
            shown,
        )
        folders = sorted(set(folder_of.values()))
        # Folders as the project has them (the generator's models/staging/<source>, ...).
        assert len(folders) > 2 and any(f.startswith("models/staging/") for f in folders)

        page.click("#group-folders")
        expect(page.locator("#group-folders")).to_have_attribute("aria-pressed", "true")
        expect(page.locator("#graph-count")).to_contain_text(f"{len(folders)} folders")
        groups = drawn(page)
        assert sorted(groups) == [f"folder:{f}" for f in folders]
        # Each folder says how many of the shown nodes it holds and how many changed.
        for folder in folders:
            members = [uid for uid, f in folder_of.items() if f == folder]
            modified = sum(status_of[uid] == "modified" for uid in members)
            tag = groups[f"folder:{folder}"] or ""
            assert tag.startswith(f"{len(members)} node")
            assert (f"{modified} modified" in tag) == (modified > 0)
        assert "group=folder" in page.url

        # Clicking a folder draws its nodes, centred on its top change; the rest stay folders.
        changed_folder = next(
            f for f in folders if any(status_of[u] and folder_of[u] == f for u in shown)
        )
        page.click("#zoom-fit")
        click_drawn(page, f"folder:{changed_folder}")
        members = {uid for uid, f in folder_of.items() if f == changed_folder}
        page.wait_for_function(
            "(id) => window.recce.screenPosition(id) !== null", arg=next(iter(members))
        )
        after = drawn(page)
        assert members <= set(after) and f"folder:{changed_folder}" not in after
        assert {f"folder:{f}" for f in folders if f != changed_folder} <= set(after)
        top = max(
            (u for u in members if status_of[u]),
            key=lambda u: page.evaluate("(id) => window.recce.app.lineage.impact[id]", u),
        )
        assert in_view(page, top)
        page.click("#group-collapse")
        expect(page.locator("#group-collapse")).to_be_hidden()
        page.wait_for_function("() => window.recce.graph.nodes.every((n) => n.group)")

        # The link keeps the grouping; opening a node from the changed list opens its folder.
        page.reload()
        wait_for_review(page)
        expect(page.locator("#group-folders")).to_have_attribute("aria-pressed", "true")
        page.wait_for_function("() => window.recce.graph.nodes.every((n) => n.group)")
        first = page.locator("#changed-list .changed-item").first
        opened = first.get_attribute("data-node-id")
        assert opened is not None
        first.click()
        expect(page.locator(f'.node-panel[data-node-id="{opened}"]')).to_be_visible()
        page.wait_for_function("(id) => window.recce.graph.selectedId === id", arg=opened)
        assert in_view(page, opened)
        assert f"folder:{folder_of[opened]}" not in drawn(page)


# ---- unchanged chains folded ----

CHAIN_MODELS = {"s1": "select 1", "s2": "select 2", "m": "select 3", "d1": "select 4"}


def test_fold_unchanged_chains_expand_one_and_open_a_node_inside_one(
    page: Page, tmp_path: Path
) -> None:
    # raw.orders -> s1 -> s2 -> m (modified) -> d1 -> d2 -> d3: two chains nobody touched.
    project = write_project(
        tmp_path / "project",
        base=manifest({**CHAIN_MODELS, "d2": "select 5", "d3": "select 6"}),
        current=manifest({**CHAIN_MODELS, "m": "select 33", "d2": "select 5", "d3": "select 6"}),
    )
    up = ["source.shop.raw.orders", "model.shop.s1", "model.shop.s2"]
    down = ["model.shop.d1", "model.shop.d2", "model.shop.d3"]
    server = Server(["server", "--port", "0", "--project-dir", str(project), "--no-watch"])
    try:
        page.goto(f"{server.url}/?mode=all")
        wait_for_review(page)
        page.wait_for_function("window.recce.graph.nodes.length === 7")
        page.click("#group-chains")
        expect(page.locator("#group-chains")).to_have_attribute("aria-pressed", "true")
        page.wait_for_function("window.recce.graph.nodes.length === 3")
        nodes = page.evaluate(
            "Object.fromEntries(window.recce.graph.nodes.map((n) => [n.id, [n.label, n.tag]]))"
        )
        assert nodes == {
            f"chain:{up[0]}": ["3 unchanged", "orders → s1 → s2"],
            "model.shop.m": ["m", None],
            f"chain:{down[0]}": ["3 unchanged", "d1 → d2 → d3"],
        }
        expect(page.locator("#graph-count")).to_contain_text("2 chains folded · 7 nodes")
        assert "group=chains" in page.url

        # Clicking a chain draws its nodes; the other stays folded; "Fold chains" folds it again.
        click_drawn(page, f"chain:{down[0]}")
        page.wait_for_function("window.recce.graph.nodes.length === 5")
        assert set(drawn(page)) == {f"chain:{up[0]}", "model.shop.m", *down}
        assert page.locator("#panel").is_hidden()  # expanding opens no node
        page.click("#group-collapse")
        expect(page.locator("#group-collapse")).to_be_hidden()
        page.wait_for_function("window.recce.graph.nodes.length === 3")

        # A link to a node inside a folded chain opens the chain and selects the node.
        page.goto(f"{server.url}/?mode=all&group=chains&node={up[1]}")
        wait_for_review(page)
        expect(page.locator(f'.node-panel[data-node-id="{up[1]}"]')).to_be_visible()
        page.wait_for_function("(id) => window.recce.graph.selectedId === id", arg=up[1])
        assert set(drawn(page)) == {*up, "model.shop.m", f"chain:{down[0]}"}
        assert in_view(page, up[1])
        # So does finding one.
        page.fill("#find", "d3")
        page.press("#find", "Enter")
        page.wait_for_function("(id) => window.recce.graph.selectedId === id", arg=down[2])
        expect(page.locator(f'.node-panel[data-node-id="{down[2]}"]')).to_be_visible()

        # Off again: every node drawn.
        page.click("#group-chains")
        expect(page.locator("#group-chains")).to_have_attribute("aria-pressed", "false")
        page.wait_for_function("window.recce.graph.nodes.length === 7")
        assert "group=" not in page.url
    finally:
        stop(server, page)


# ---- the minimap ----


def minimap_point(page: Page, node_id: str) -> tuple[float, float]:
    """Where the minimap draws a node: the whole graph fitted into it, 4 px from its edges."""
    at = page.evaluate(
        """(id) => {
          const g = window.recce.graph, n = g.nodes[g.index.get(id)], b = g.bounds;
          const s = Math.min((180 - 8) / (b.x1 - b.x0), (120 - 8) / (b.y1 - b.y0));
          const ox = (180 - (b.x1 - b.x0) * s) / 2 - b.x0 * s;
          const oy = (120 - (b.y1 - b.y0) * s) / 2 - b.y0 * s;
          return [n.x * s + ox, n.y * s + oy];
        }""",
        node_id,
    )
    box = page.locator("#minimap").bounding_box()
    assert box is not None
    return box["x"] + at[0], box["y"] + at[1]


def test_minimap_click_and_drag_move_the_view(
    page: Page, generated: tuple[Path, dict[str, Any]]
) -> None:
    root, _ = generated
    with served(page, root):
        shown = shown_when_settled(page)
        # Zoomed in on part of the graph, the minimap shows the whole.
        for _ in range(4):
            page.click("#zoom-in")
        minimap = page.locator("#minimap")
        expect(minimap).to_be_visible()
        # A small graph: every edge is drawn, so no edge is said to be hidden.
        expect(page.locator("#edges-note")).to_be_hidden()
        # Two nodes far apart: the leftmost and the rightmost drawn.
        ends = page.evaluate(
            """() => {
              const nodes = [...window.recce.graph.nodes].sort((a, b) => a.x - b.x);
              return [nodes[0].id, nodes[nodes.length - 1].id];
            }"""
        )
        left, right = ends
        assert left in shown and right in shown
        for target in (right, left):
            if in_view(page, target):
                continue
            x, y = minimap_point(page, target)
            page.mouse.click(x, y)
            page.wait_for_function("(id) => window.recce.screenPosition(id) !== null", arg=target)
            assert in_view(page, target), f"clicking the minimap at {target} did not show it"

        # Dragging across the minimap carries the view along.
        x0, y0 = minimap_point(page, left)
        x1, y1 = minimap_point(page, right)
        page.mouse.move(x0, y0)
        page.mouse.down()
        for step in range(1, 11):
            page.mouse.move(x0 + (x1 - x0) * step / 10, y0 + (y1 - y0) * step / 10)
        page.mouse.up()
        assert in_view(page, right) and not in_view(page, left)


# ---- semantic zoom ----


def test_far_out_only_the_changes_are_labelled_and_names_return_when_zoomed_in(
    page: Page, big_project: tuple[Path, dict[str, Any]]
) -> None:
    root, _ = big_project
    with served(page, root):
        wait_for_review(page)
        assert page.evaluate("window.recce.graph.legible")
        page.click("#zoom-fit")  # 3,545 nodes: names would be specks
        page.wait_for_function(
            "window.recce.graph.k < 0.3 && window.recce.graph.farLabels?.length > 0"
        )
        labelled: list[str] = page.evaluate("window.recce.graph.farLabels")
        statuses = page.evaluate(
            "(ids) => ids.map((id) => window.recce.app.lineage.nodes[id].change_status)",
            labelled,
        )
        # Screen-size labels for changed nodes only, as many as fit without overlapping.
        assert all(statuses) and 10 < len(labelled) <= 150
        # Zoomed in, each node in view carries its own name and type again.
        for _ in range(40):
            if page.evaluate("window.recce.graph.legible"):
                break
            page.click("#zoom-in")
        page.wait_for_function(
            "window.recce.graph.legible && window.recce.graph.farLabels.length === 0"
        )


# ---- long edges left out ----


def test_the_page_says_how_many_long_edges_a_frame_leaves_out_and_shows_them(
    page: Page, big_project: tuple[Path, dict[str, Any]]
) -> None:
    root, _ = big_project
    with served(page, root):
        wait_for_review(page)
        page.click("#zoom-fit")  # the whole changed-models view: thousands of edges in view
        note = page.locator("#edges-note")
        expect(note).to_be_visible()
        expect(note).to_contain_text("edges in view hidden (the longest)")
        hidden, in_view = page.evaluate(
            "[window.recce.graph.edgesHidden, window.recce.graph.edgesInView]"
        )
        assert hidden > 0 and in_view - hidden == 1200
        expect(note).to_contain_text(f"{hidden:,} of {in_view:,} edges in view hidden")

        page.locator("#edges-toggle").click()
        expect(note).to_contain_text(f"All {in_view:,} edges in view drawn")
        assert page.evaluate("window.recce.graph.edgesHidden") == 0
        page.locator("#edges-toggle").click()
        expect(note).to_contain_text(f"{hidden:,} of {in_view:,} edges in view hidden")
