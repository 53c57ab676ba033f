"""The markdown summary for a pull request comment: what changed, a lineage graph, the checks.

GitHub refuses comments over 65,536 characters and mermaid refuses diagrams over 50,000, so
every part is bounded: the graph stops adding nodes at ``MAX_MERMAID_CHARS`` and the tables
at a row limit, saying how much was left out.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from recce_trio.core.checks import Check, Run, parse_time

MAX_MERMAID_CHARS = 50_000  # mermaid's default maxTextSize
GITHUB_COMMENT_LIMIT = 65_536
MAX_TABLE_ROWS = 50
MAX_COLUMNS_LISTED = 8

ADD_COLOR, MODIFIED_COLOR, REMOVE_COLOR = "#1dce00", "#ffa502", "#ff067e"
_STYLE = {"added": ADD_COLOR, "modified": MODIFIED_COLOR, "removed": REMOVE_COLOR}


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def _label(text: str) -> str:
    return text.replace('"', "#quot;")


def _when(text: str | None) -> str:
    if not text:
        return "N/A"
    return parse_time(text).strftime("%Y-%m-%d %H:%M:%S")


def _node(lineage_diff: Any, uid: str) -> dict[str, Any]:
    node: dict[str, Any] = lineage_diff.current["nodes"].get(uid) or lineage_diff.base["nodes"].get(
        uid, {}
    )
    return node


def _columns(node: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if node is None or "columns" not in node else node["columns"]


def column_summary(lineage_diff: Any, uid: str, entry: dict[str, Any]) -> str:
    """What happened to a changed node's columns, in a few words."""
    status = entry.get("change_status")
    base_cols = _columns(lineage_diff.base["nodes"].get(uid))
    current_cols = _columns(lineage_diff.current["nodes"].get(uid))
    if status == "added":
        return f"{len(current_cols)} columns" if current_cols is not None else "no catalog entry"
    if status == "removed":
        return "—"
    changes = (entry.get("change") or {}).get("columns")
    if changes is None:
        return "unknown (no catalog entry on one side)"
    if not changes:
        return "unchanged"
    parts = []
    for name, kind in changes.items():
        if kind == "added":
            parts.append(f"+{name}")
        elif kind == "removed":
            parts.append(f"−{name}")
        else:
            before = (base_cols or {}).get(name, {}).get("type")
            after = (current_cols or {}).get(name, {}).get("type")
            parts.append(f"~{name} ({before} → {after})")
    shown = parts[:MAX_COLUMNS_LISTED]
    more = len(parts) - len(shown)
    return ", ".join(shown) + (f", and {more} more" if more else "")


def mermaid_lineage(lineage_diff: Any, *, max_chars: int = MAX_MERMAID_CHARS) -> tuple[str, bool]:
    """A ``graph LR`` of the changed nodes and everything downstream of them, breadth first,
    stopping before ``max_chars``. Returns the diagram and whether it was cut short."""
    children: dict[str, set[str]] = {}
    for lineage in (lineage_diff.base, lineage_diff.current):
        for child, parents in lineage["parent_map"].items():
            for parent in parents:
                children.setdefault(parent, set()).add(child)
    diff = lineage_diff.diff
    queue = deque(sorted(diff))
    short: dict[str, str] = {}
    lines = ["graph LR"]
    size = len(lines[0]) + 1
    partial = False
    while queue:
        uid = queue.popleft()
        if uid in short:
            continue
        node_id = f"n{len(short)}"
        status = (diff.get(uid) or {}).get("change_status")
        node = _node(lineage_diff, uid)
        text = [f'{node_id}["{_label(node.get("name", uid))}"]']
        if status in _STYLE:
            text.append(f"style {node_id} stroke:{_STYLE[status]}")
        # Edges to the nodes already drawn, both ways: a node can be drawn after its child.
        parents = lineage_diff.current["parent_map"].get(uid, []) + lineage_diff.base[
            "parent_map"
        ].get(uid, [])
        for parent in sorted(set(parents) & short.keys()):
            text.append(f"{short[parent]} {_arrow(status)} {node_id}")
        for child in sorted(children.get(uid, set()) & short.keys()):
            child_status = (diff.get(child) or {}).get("change_status")
            text.append(f"{node_id} {_arrow(child_status)} {short[child]}")
        cost = sum(len(line) + 1 for line in text)
        if size + cost > max_chars:
            partial = True
            break
        short[uid] = node_id
        lines.extend(text)
        size += cost
        queue.extend(sorted(children.get(uid, ())))
    return "\n".join(lines), partial


def _arrow(child_status: str | None) -> str:
    return "-.->" if child_status == "removed" else "-->"


def check_status(check: Check, last_run: Run | None) -> str:
    if last_run is not None and last_run.error:
        return f"❌ Failed: {_cell(last_run.error)[:120]}"
    status = "✅ Approved" if check.is_checked else "⏳ Pending review"
    outcome = run_outcome(last_run) if last_run is not None else ""
    return f"{status} · {_cell(outcome)}" if outcome else status


def _frame_rows(frame: Any) -> int:
    return len(frame.get("data") or []) if isinstance(frame, dict) else 0


def run_outcome(run: Run) -> str:
    """What a warehouse run found, in a few words ("" for other types or no result)."""
    result = run.result
    if not isinstance(result, dict) or not result:
        return ""
    if run.type in ("row_count_diff", "row_count"):
        changed = [
            f"{name}: {_count(v.get('base'))} → {_count(v.get('curr'))} rows"
            for name, v in result.items()
            if isinstance(v, dict) and v.get("base") != v.get("curr")
        ]
        if not changed:
            return f"row counts unchanged ({len(result)} models)"
        more = f", and {len(changed) - 3} more" if len(changed) > 3 else ""
        return "; ".join(changed[:3]) + more
    if run.type == "query_diff":
        if result.get("diff") is not None:
            rows = _frame_rows(result["diff"])
            return "no rows differ" if rows == 0 else f"{rows} rows differ"
        base, current = result.get("base") or {}, result.get("current") or {}
        same = base.get("data") == current.get("data")
        return "results identical" if same else "results differ"
    if run.type == "value_diff":
        summary = result.get("summary") or {}
        columns = (result.get("data") or {}).get("data") or []
        differing = [str(row[0]) for row in columns if row and len(row) > 2 and _fraction(row[2])]
        text = f"{summary.get('added', 0)} added, {summary.get('removed', 0)} removed rows"
        return text + (f"; columns differing: {', '.join(differing)}" if differing else "")
    if run.type in ("query", "query_base", "value_diff_detail"):
        return f"{_frame_rows(result)} rows"
    return ""


def _count(value: Any) -> str:
    return "N/A" if value is None else str(value)


def _fraction(value: Any) -> bool:
    """Whether a matched proportion is below 1 (some values differ)."""
    try:
        return float(value) < 1
    except (TypeError, ValueError):
        return False


def build_summary(
    lineage_diff: Any, checks: list[Check], runs: list[Run], *, cll: Any = None
) -> str:
    """The whole markdown summary. With ``cll`` (a ``core.cll.api.CllProject`` of the same
    artifacts), a "Change Analysis" section gives each modified model's category and what it
    impacts downstream."""
    out = ["# Recce Summary", "", "## Manifest Information", ""]
    out += ["| | Manifest | Catalog |", "|---|---|---|"]
    for label, lineage in (("Base", lineage_diff.base), ("Current", lineage_diff.current)):
        manifest_at = (lineage.get("manifest_metadata") or {}).get("generated_at")
        catalog_meta = lineage.get("catalog_metadata")
        catalog_at = _when(catalog_meta.get("generated_at")) if catalog_meta else "N/A"
        out.append(f"| {label} | {_when(manifest_at)} | {catalog_at} |")

    changed = sorted(lineage_diff.diff.items())
    out += ["", f"## Changed Models ({len(changed)})", ""]
    if not changed:
        out.append("No changed model was detected.")
    else:
        out += ["| Name | Type | Change | Columns |", "|---|---|---|---|"]
        for uid, entry in changed[:MAX_TABLE_ROWS]:
            node = _node(lineage_diff, uid)
            out.append(
                f"| {_cell(node.get('name', uid))} | {_cell(node.get('resource_type', ''))} "
                f"| {entry.get('change_status')} "
                f"| {_cell(column_summary(lineage_diff, uid, entry))} |"
            )
        if len(changed) > MAX_TABLE_ROWS:
            out.append(f"\n_…and {len(changed) - MAX_TABLE_ROWS} more changed nodes._")
    if cll is not None:
        from recce_trio.core.change_summary import change_analysis_section

        out += change_analysis_section(cll)

    tail: list[str] = ["", f"## Checks ({len(checks)})", ""]
    if not checks:
        tail.append("No checks.")
    else:
        approved = sum(1 for c in checks if c.is_checked)
        tail.append(f"{approved} of {len(checks)} approved.\n")
        tail += ["| Name | Type | Status |", "|---|---|---|"]
        last: dict[str, Run] = {}
        for run in runs:
            if run.check_id is not None:
                last[run.check_id] = run
        for check in checks[:MAX_TABLE_ROWS]:
            kind = check.type.replace("_", " ").title()
            status = check_status(check, last.get(check.check_id))
            tail.append(f"| {_cell(check.name)} | {kind} | {status} |")
        if len(checks) > MAX_TABLE_ROWS:
            tail.append(f"\n_…and {len(checks) - MAX_TABLE_ROWS} more checks._")
    graph = ["", "## Lineage Graph", ""]
    if not changed:
        graph.append("No changed model was detected.")
    else:
        # The graph gets what the comment limit leaves, and never more than mermaid takes.
        budget = GITHUB_COMMENT_LIMIT - _length(out) - _length(tail) - 400
        diagram, partial = mermaid_lineage(lineage_diff, max_chars=min(MAX_MERMAID_CHARS, budget))
        if partial:
            graph.append(
                "_Too many nodes to draw them all: the graph shows the changed nodes and their "
                "downstream nodes nearest first. See the full lineage in recce-trio._\n"
            )
        graph += ["```mermaid", diagram, "```"]
    return "\n".join(out + graph + tail) + "\n"


def _length(lines: list[str]) -> int:
    return sum(len(line) + 1 for line in lines)


def summary_cll(artifacts: Any, lineage_diff: Any) -> Any:
    """The column-lineage project ``build_summary`` reads for its "Change Analysis"."""
    from recce_trio.core.cll.api import CllProject

    return CllProject(
        artifacts.base_manifest,
        artifacts.base_catalog,
        artifacts.current_manifest,
        artifacts.current_catalog,
        changes={uid: entry["change_status"] for uid, entry in lineage_diff.diff.items()},
    )
