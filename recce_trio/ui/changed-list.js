// The changed-models list next to the graph: searchable, sortable by downstream impact, change
// kind or name; arrow keys move through it and open each node.

import { h } from "./dom.js";

export const CATEGORY_LABELS = {
  breaking: "breaking",
  partial_breaking: "partial breaking",
  non_breaking: "non-breaking",
  unknown: "unknown",
};

/** A node's change category (column-level change analysis) as a badge, or null. */
export function categoryBadge(category) {
  if (!category) return null;
  return h("span", { class: `badge category ${category}`, title: "Change category (column-level change analysis)" }, CATEGORY_LABELS[category] ?? category);
}

const KIND_ORDER = { removed: 0, added: 1, modified: 2 };
export const SORTS = {
  impact: "downstream impact",
  kind: "change kind",
  name: "name",
};
const MAX_ROWS = 500; // rows drawn at once; the search narrows the rest

/** The changed node ids matching `query`, in `sort` order. */
export function changedIds(lineage, query, sort) {
  const q = query.trim().toLowerCase();
  const { nodes, impact } = lineage;
  const ids = Object.keys(impact).filter((id) => !q || nodes[id].name.toLowerCase().includes(q) || id.toLowerCase().includes(q));
  const byName = (a, b) => (nodes[a].name < nodes[b].name ? -1 : nodes[a].name > nodes[b].name ? 1 : a < b ? -1 : 1);
  if (sort === "name") ids.sort(byName);
  else if (sort === "kind") ids.sort((a, b) => KIND_ORDER[nodes[a].change_status] - KIND_ORDER[nodes[b].change_status] || impact[b] - impact[a] || byName(a, b));
  else ids.sort((a, b) => impact[b] - impact[a] || byName(a, b));
  return ids;
}

const FIRST_ROWS = 25; // rendered at once (a screenful: about 10 rows show); the rest in later tasks
const CHUNK_ROWS = 110;

export function renderChangedList(listEl, { lineage, ids, activeId }, actions) {
  const seq = (listEl.renderSeq = (listEl.renderSeq ?? 0) + 1); // a newer render stops this one
  listEl.replaceChildren();
  const total = Object.keys(lineage.impact).length;
  document.getElementById("changed-count").textContent = total ? `${total}` : "";
  if (!ids.length) {
    listEl.append(h("li", { class: "empty muted" }, total ? "No changed node matches." : "Nothing changed."));
    return;
  }
  const row = (id) => {
    const node = lineage.nodes[id];
    const impact = lineage.impact[id];
    return h("li", {
        class: `changed-item${id === activeId ? " active" : ""}`,
        role: "option",
        "aria-selected": id === activeId ? "true" : "false",
        dataset: { nodeId: id },
        title: id,
        onclick: () => actions.openNode(id, { center: true }),
      },
      h("span", { class: `badge ${node.change_status}` }, node.change_status),
      h("span", { class: "changed-name" }, node.name, " ", categoryBadge(node.category)),
      h("span", { class: "changed-type muted small" }, node.resource_type),
      h("span", { class: "impact muted small", title: `${impact} downstream node${impact === 1 ? "" : "s"}` }, `↓${impact}`),
    );
  };
  const shown = ids.slice(0, MAX_ROWS);
  const more = ids.length > MAX_ROWS ? h("li", { class: "more muted small" }, `${ids.length - MAX_ROWS} more: narrow the search`) : null;
  // The first screenful now (and the active row, wherever it is); the rest in chunks, so that
  // the first view of a big project is not held up by rows below the fold.
  const at = Math.max(FIRST_ROWS, shown.indexOf(activeId) + 1);
  listEl.append(...shown.slice(0, at).map(row));
  const next = (from) => {
    if (listEl.renderSeq !== seq) return;
    const to = Math.min(shown.length, from + CHUNK_ROWS);
    listEl.append(...shown.slice(from, to).map(row));
    if (to < shown.length) setTimeout(() => next(to));
    else if (more) listEl.append(more);
  };
  if (at < shown.length) setTimeout(() => next(at));
  else if (more) listEl.append(more);
}
