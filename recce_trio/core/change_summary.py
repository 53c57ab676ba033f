"""The summary's "Change Analysis" section: each modified model's category and what it
impacts downstream (from column-level lineage)."""

from __future__ import annotations

from typing import Any

from recce_trio.core.cll.api import CllProject, impact_radius

MAX_ROWS = 50
MAX_IMPACTS_LISTED = 6
MAX_COLUMNS_PER_IMPACT = 4
CATEGORY_LABELS = {
    "breaking": "🔴 breaking",
    "partial_breaking": "🟠 partial breaking",
    "non_breaking": "🟢 non-breaking",
    "unknown": "⚪ unknown",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _name(project: CllProject, uid: str) -> str:
    node = project.current.node(uid)
    return node.name if node is not None else uid


def _changed_columns(columns: dict[str, str] | None) -> str:
    if columns is None:
        return "unknown"
    if not columns:
        return "—"
    marks = {"added": "+", "removed": "−", "modified": "~"}
    return ", ".join(f"{marks.get(kind, '?')}{name}" for name, kind in columns.items())


def impacts(project: CllProject, uid: str) -> list[tuple[str, list[str] | None]]:
    """The nodes downstream of ``uid`` that its change reaches, nearest name first:
    ``(node id, impacted column names)``, with ``None`` for "every column" (the node sits
    below a breaking change)."""
    radius: dict[str, Any] = impact_radius(project, uid)
    whole = set(radius["whole_model"])
    out: list[tuple[str, list[str] | None]] = []
    for other in sorted(set(radius["nodes"]) | set(radius["by_node"])):
        if other == uid:
            continue
        out.append((other, None if other in whole else radius["by_node"].get(other, [])))
    return sorted(out, key=lambda item: _name(project, item[0]))


def _impact_text(project: CllProject, found: list[tuple[str, list[str] | None]]) -> str:
    if not found:
        return "nothing downstream"
    parts = []
    for uid, columns in found[:MAX_IMPACTS_LISTED]:
        name = _name(project, uid)
        if columns is None:
            parts.append(f"{name} (all columns)")
        elif columns:
            shown = ", ".join(columns[:MAX_COLUMNS_PER_IMPACT])
            more = len(columns) - MAX_COLUMNS_PER_IMPACT
            parts.append(f"{name} ({shown}{f', +{more}' if more > 0 else ''})")
        else:
            parts.append(name)
    left = len(found) - MAX_IMPACTS_LISTED
    return "; ".join(parts) + (f"; and {left} more" if left > 0 else "")


def change_analysis_section(project: CllProject) -> list[str]:
    """Markdown lines: a table of modified models with category, changed columns and impact."""
    modified = sorted(uid for uid, status in project.changes.items() if status == "modified")
    out = ["", f"## Change Analysis ({len(modified)} modified)", ""]
    if not modified:
        out.append("No modified model.")
        return out
    out += ["| Name | Category | Changed columns | Impacted downstream |", "|---|---|---|---|"]
    for uid in modified[:MAX_ROWS]:
        result = project.change(uid)
        category = result.category if result is not None else "unknown"
        columns = result.columns if result is not None else None
        out.append(
            f"| {_cell(_name(project, uid))} | {CATEGORY_LABELS.get(category, category)} "
            f"| {_cell(_changed_columns(columns))} "
            f"| {_cell(_impact_text(project, impacts(project, uid)))} |"
        )
    if len(modified) > MAX_ROWS:
        out.append(f"\n_…and {len(modified) - MAX_ROWS} more modified nodes._")
    return out
