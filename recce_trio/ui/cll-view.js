// Column-level lineage and impact radius, from POST /api/cll (Recce's CllData).
//
// - In a node's panel, "Column lineage" lists the node's columns; clicking one shows, in a panel
//   over the graph, the columns it comes from (upstream) and the columns it feeds (downstream),
//   grouped by model, and rings those models in the graph.
// - "Impact radius" (toolbar) asks for {change_analysis, no_upstream} and shows, as Recce's UI
//   does, every node and column the changes reach: a column is impacted when it or any column
//   it derives from changed; a node when it changed, is marked impacted, owns an impacted
//   column, or sits below a breaking change (then every column of it may change).

import { categoryBadge } from "./changed-list.js";
import { h } from "./dom.js";

async function postCll(body) {
  const response = await fetch("/api/cll", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = data?.detail ?? data?.error ?? `HTTP ${response.status}`;
    throw new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
  }
  return data.current;
}

/** Ids reached from `start` over `edges` ({id: [ids]}), `start` excluded. */
export function walk(start, edges) {
  const seen = new Set();
  const stack = [...start];
  while (stack.length) {
    for (const next of edges[stack.pop()] ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        stack.push(next);
      }
    }
  }
  for (const id of start) seen.delete(id);
  return seen;
}

/** Recce's impact radius from a {change_analysis, no_upstream} answer. */
export function impactOf(data) {
  const changed = new Set(Object.keys(data.columns).filter((cid) => data.columns[cid].change_status));
  const columns = new Set();
  for (const cid of Object.keys(data.columns)) {
    if (changed.has(cid) || [...walk([cid], data.parent_map)].some((p) => changed.has(p))) columns.add(cid);
  }
  const breaking = Object.keys(data.nodes).filter((id) => data.nodes[id].change_category === "breaking");
  const nodeChildren = {};
  for (const [id, kids] of Object.entries(data.child_map)) {
    if (data.nodes[id]) nodeChildren[id] = kids.filter((k) => data.nodes[k]);
  }
  const whole = new Set([...breaking, ...walk(breaking, nodeChildren)]);
  const byNode = {};
  for (const cid of columns) (byNode[data.columns[cid].table_id] ??= []).push(data.columns[cid].name);
  const nodes = new Set(whole);
  for (const [id, n] of Object.entries(data.nodes)) if (n.change_status || n.impacted) nodes.add(id);
  for (const id of Object.keys(byNode)) nodes.add(id);
  return { nodes, columns, whole, byNode };
}

function groupByTable(data, ids) {
  const groups = new Map();
  for (const cid of ids) {
    const col = data.columns[cid];
    if (!col) continue;
    if (!groups.has(col.table_id)) groups.set(col.table_id, []);
    groups.get(col.table_id).push(col);
  }
  return groups;
}

export class CllView {
  /** `graph()` gives the GraphView, `nodeName(id)` a node's name, `openNode(id)` opens one. */
  constructor({ graph, nodeName, openNode }) {
    this.graph = graph;
    this.nodeName = nodeName;
    this.openNode = openNode;
    this.columnsOf = new Map(); // node id -> Promise of its CllData columns
    this.seq = 0;
    this.box = h("section", { id: "cll-panel", class: "cll-panel", hidden: true, "aria-live": "polite" });
    document.getElementById("graph-wrap").append(this.box);
    const button = h("button", { type: "button", id: "impact-radius", class: "secondary", onclick: () => this.showImpact() }, "Impact radius");
    document.getElementById("add-lineage-check").after(button);
  }

  /** The artifacts changed: forget what was fetched. */
  reset() {
    this.columnsOf.clear();
    if (!this.box.hidden && this.last) this.last();
  }

  close() {
    this.seq++;
    this.box.hidden = true;
    this.last = null;
    this.graph()?.setHighlight([]);
  }

  _frame(title, ...body) {
    this.box.replaceChildren(
      h("div", { class: "panel-head" }, h("h3", {}, title), h("button", { class: "icon close", title: "Close", onclick: () => this.close() }, "×")),
      ...body,
    );
    this.box.hidden = false;
  }

  async _load(title, body, render) {
    const seq = ++this.seq;
    this._frame(title, h("p", { class: "muted" }, "Loading the column lineage…"));
    try {
      const data = await postCll(body);
      if (seq === this.seq) render(data);
    } catch (err) {
      if (seq === this.seq) this._frame(title, h("p", { class: "error-line" }, `Could not load the column lineage: ${err.message}`));
    }
  }

  _modelRows(data, groups, marks = {}) {
    if (!groups.size) return [h("p", { class: "muted small" }, "None.")];
    return [...groups.entries()].map(([table, cols]) =>
      h("div", { class: "cll-model", dataset: { nodeId: table } },
        h("a", { href: "#", class: "cll-model-name", onclick: (e) => { e.preventDefault(); this.openNode(table); } }, data.nodes[table]?.name ?? this.nodeName(table)),
        marks[table] ?? null,
        h("ul", { class: "cll-columns" }, cols.map((c) =>
          h("li", { dataset: { columnId: c.id } },
            h("a", { href: "#", onclick: (e) => { e.preventDefault(); this.showColumn(table, c.name); } }, c.name),
            c.change_status ? h("span", { class: `badge ${c.change_status}` }, c.change_status) : null,
            h("span", { class: "muted small" }, ` ${c.transformation_type}`),
          )))));
  }

  /** Upstream and downstream of one column, across models. */
  showColumn(nodeId, column) {
    this.last = () => this.showColumn(nodeId, column);
    const title = `${this.nodeName(nodeId)}.${column}`;
    this._load(title, { node_id: nodeId, column }, (data) => {
      const folded = column.toLowerCase();
      const anchor = Object.keys(data.columns).find((cid) => data.columns[cid].table_id === nodeId && data.columns[cid].name.toLowerCase() === folded);
      if (!anchor) {
        this._frame(title, h("p", { class: "muted" }, "This column has no lineage (its model has no catalog entry for it)."));
        return;
      }
      const up = walk([anchor], data.parent_map), down = walk([anchor], data.child_map);
      const self = data.columns[anchor];
      const ups = groupByTable(data, up), downs = groupByTable(data, down);
      this._frame(title,
        h("p", { class: "small" }, `${self.type ?? "type unknown"} · ${self.transformation_type}`),
        h("h4", {}, `Upstream (${up.size} column${up.size === 1 ? "" : "s"})`),
        h("div", { class: "cll-up" }, this._modelRows(data, ups)),
        h("h4", {}, `Downstream (${down.size} column${down.size === 1 ? "" : "s"})`),
        h("div", { class: "cll-down" }, this._modelRows(data, downs)),
      );
      this.graph()?.setHighlight([nodeId, ...ups.keys(), ...downs.keys()]);
    });
  }

  /** What the changes reach downstream (Recce's "Impact Radius"). */
  showImpact() {
    this.last = () => this.showImpact();
    this._load("Impact radius", { change_analysis: true, no_upstream: true }, (data) => {
      const impact = impactOf(data);
      const ids = [...impact.nodes].sort((a, b) => (this.nodeName(a) < this.nodeName(b) ? -1 : 1));
      const rows = ids.map((id) => {
        const node = data.nodes[id];
        const cols = impact.byNode[id] ?? [];
        return h("li", { class: "cll-model", dataset: { nodeId: id } },
          h("a", { href: "#", class: "cll-model-name", onclick: (e) => { e.preventDefault(); this.openNode(id); } }, node?.name ?? this.nodeName(id)),
          node?.change_status ? h("span", { class: `badge ${node.change_status}` }, node.change_status) : null,
          categoryBadge(node?.change_category),
          h("div", { class: "small cll-impacted-columns" },
            impact.whole.has(id) && node?.change_category !== "breaking"
              ? "every column (below a breaking change)"
              : cols.length ? cols.sort().join(", ") : node?.change_status ? "no column-level change" : ""));
      });
      this._frame("Impact radius",
        h("p", { class: "small muted" }, `${impact.nodes.size} node${impact.nodes.size === 1 ? "" : "s"} and ${impact.columns.size} column${impact.columns.size === 1 ? "" : "s"} reached by the changes.`),
        ids.length ? h("ul", { class: "cll-impact" }, rows) : h("p", { class: "muted" }, "Nothing is impacted."),
      );
      this.graph()?.setHighlight(ids);
    });
  }

  /** The "Column lineage" part of a node's panel: its columns, each a button. */
  columnsSection(nodeId) {
    if (!this.columnsOf.has(nodeId)) {
      this.columnsOf.set(nodeId, postCll({ node_id: nodeId, no_upstream: true, no_downstream: true }).catch((err) => ({ error: err.message })));
    }
    const list = h("div", { class: "cll-node-columns" }, h("span", { class: "muted small" }, "Loading…"));
    this.columnsOf.get(nodeId).then((data) => {
      if (data.error) {
        list.replaceChildren(h("span", { class: "error-line" }, data.error));
        return;
      }
      const cols = Object.values(data.nodes[nodeId]?.columns ?? {});
      list.replaceChildren(...(cols.length
        ? cols.map((c) => h("button", { type: "button", class: "small cll-column", title: `${c.type ?? ""} · ${c.transformation_type}`, onclick: () => this.showColumn(nodeId, c.name) }, c.name))
        : [h("span", { class: "muted small" }, "No columns known (no catalog entry).")]));
    });
    return h("div", { class: "cll-section" }, h("h4", {}, "Column lineage"), h("p", { class: "muted small" }, "Click a column to see where it comes from and what it feeds."), list);
  }
}
