// The changed-models list next to the graph: searchable, sortable by downstream impact, change
// kind or name; arrow keys move through it and open each node.

import { categoryBadge } from "./cll-view.js";
import { h } from "./dom.js";

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

export function renderChangedList(listEl, { lineage, ids, activeId }, actions) {
  listEl.replaceChildren();
  const total = Object.keys(lineage.impact).length;
  document.getElementById("changed-count").textContent = total ? `${total}` : "";
  if (!ids.length) {
    listEl.append(h("li", { class: "empty muted" }, total ? "No changed node matches." : "Nothing changed."));
    return;
  }
  for (const id of ids.slice(0, MAX_ROWS)) {
    const node = lineage.nodes[id];
    const impact = lineage.impact[id];
    listEl.append(h("li", {
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
    ));
  }
  if (ids.length > MAX_ROWS) listEl.append(h("li", { class: "more muted small" }, `${ids.length - MAX_ROWS} more: narrow the search`));
}
