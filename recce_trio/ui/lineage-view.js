// The lineage: the selection (filters, /api/select), the layout (dagre in a worker), the
// canvas graph, the multi-node selection bar. State lives in the store; this module turns
// the store's `selection` into `shown` and draws `shown`.

import { api } from "./api.js";
import { $, h } from "./dom.js";
import { EDGE_BUDGET, GraphView, NODE_H, NODE_W } from "./graph.js";
import { chainTag, collapseChains, isChain } from "./chains.js";
import { folderOfGroup, groupByFolder, groupId, groupTag, isGroup } from "./groups.js";

export function readFilters() {
  const select = $("f-select").value.trim();
  const exclude = $("f-exclude").value.trim();
  const packages = $("f-packages").value.split(/[\s,]+/).filter(Boolean);
  const body = { view_mode: $("mode-changed").checked ? "changed_models" : "all" };
  if (select) body.select = select;
  if (exclude) body.exclude = exclude;
  if (packages.length) body.packages = packages;
  return body;
}

function writeFilters(sel) {
  $("f-select").value = sel.select ?? "";
  $("f-exclude").value = sel.exclude ?? "";
  $("f-packages").value = (sel.packages ?? []).join(", ");
  $("mode-changed").checked = sel.view_mode === "changed_models";
  $("mode-all").checked = sel.view_mode !== "changed_models";
}

const indexes = new WeakMap(); // lineage -> Map(unique_id -> its index in lineage.ids)

/** Edges among `ids`, as index pairs into `ids`. `lineage.edges` is flat: [s0, t0, s1, t1, ...]. */
function edgesAmong(lineage, ids) {
  let index = indexes.get(lineage);
  if (!index) indexes.set(lineage, (index = new Map(lineage.ids.map((id, i) => [id, i]))));
  const local = new Int32Array(lineage.ids.length).fill(-1);
  ids.forEach((id, i) => (local[index.get(id)] = i));
  const all = lineage.edges;
  const edges = [];
  for (let e = 0; e < all.length; e += 2) {
    const a = local[all[e]], b = local[all[e + 1]];
    if (a >= 0 && b >= 0) edges.push([a, b]);
  }
  return edges;
}

const layoutKey = (ids, ranks) => `${ids.length}:${ids.join("|")}${ranks ? `:${ranks.join(",")}` : ""}`;

export class LineageView {
  constructor(store, { openNode, pick }) {
    this.store = store;
    this.layoutCache = new Map();
    this.worker = null; // the layout worker: startWorker(), or the first layout, starts it
    this.pending = null;
    this.drawSeq = 0;
    this.metrics = {};
    this.expanded = new Set(); // folders (or chain ids) shown node by node while grouped (or folded)
    this.chainOf = new Map(); // node id -> the id of the folded chain it is drawn in
    this.graph = new GraphView($("graph"), {
      minimap: $("minimap"),
      onSelect: (id) => (isGroup(id) ? this.expand(folderOfGroup(id)) : isChain(id) ? this.expandChain(id) : openNode(id)),
      onPick: (id) => isGroup(id) || isChain(id) || pick(id),
      onEdges: (hidden, inView) => this.renderEdgeNote(hidden, inView),
    });
    $("edges-toggle").addEventListener("click", () => this.graph.showAllEdges(!this.graph.allEdges));
    store.subscribe(["shown", "group"], (state, previous, changed) => {
      if (changed.has("group")) this.expanded.clear();
      this.draw(state);
    });
    store.subscribe(["group"], (state) => {
      $("group-folders").setAttribute("aria-pressed", state.group === "folder" ? "true" : "false");
      $("group-chains").setAttribute("aria-pressed", state.group === "chains" ? "true" : "false");
      $("group-collapse").textContent = state.group === "chains" ? "Fold chains" : "Collapse folders";
    });
    $("group-folders").addEventListener("click", () => store.set({ group: store.get().group === "folder" ? null : "folder" }));
    $("group-chains").addEventListener("click", () => store.set({ group: store.get().group === "chains" ? null : "chains" }));
    $("group-collapse").addEventListener("click", () => {
      this.expanded.clear();
      this.draw(store.get());
    });
    store.subscribe(["selection"], (state) => state.selection && writeFilters(state.selection));
    store.subscribe(["selectError"], (state) => {
      $("select-error").textContent = state.selectError ?? "";
      $("select-error").hidden = !state.selectError;
    });
    store.subscribe(["picked", "lineage"], (state) => this.renderPicked(state));
    store.subscribe(["panel"], (state) => this.revealOpen(state));
  }

  /** Select the open node in the graph, drawing the folder or chain it is folded in. */
  revealOpen(state) {
    const id = state.panel?.kind === "node" ? state.panel.id : null;
    // A node opened (from the list, a link, the search) inside a folder drawn as a group:
    // show that folder's nodes.
    const folder = id && state.group === "folder" && state.shown?.ids.includes(id) ? state.lineage?.nodes[id]?.folder : undefined;
    const chain = id && state.group === "chains" ? this.chainOf.get(id) : undefined;
    if (folder !== undefined && !this.graph.index.has(id)) this.expand(folder, id);
    else if (chain && !this.graph.index.has(id)) this.expandChain(chain, id);
    else if (id !== this.graph.selectedId) this.graph.select(id);
  }

  /** Show a grouped folder's nodes, centred on `focus` (else its change with the most downstream). */
  expand(folder, focus = null) {
    this.expanded.add(folder);
    this.focusNext = { folder, id: focus };
    this.draw(this.store.get());
  }

  /** Show a folded chain's nodes, centred on `focus` (else its first node). */
  expandChain(id, focus = null) {
    this.expanded.add(id);
    this.focusNext = { id: focus ?? this.chains?.get(id)?.members[0] ?? null };
    this.draw(this.store.get());
  }

  /**
   * Ask the server for a selection; on success it becomes the shown one, unless a newer one
   * was asked for meanwhile (then its answer is dropped, and true returned).
   */
  async apply(sel) {
    const seq = (this.applySeq = (this.applySeq ?? 0) + 1);
    let result;
    try {
      result = await api.select(sel);
    } catch (err) {
      if (seq !== this.applySeq) return true;
      this.store.set({ selectError: err.message });
      return false;
    }
    if (seq !== this.applySeq) return true;
    this.metrics.selectAt ??= performance.now();
    const { lineage } = this.store.get();
    const ids = (result.nodes ?? []).filter((id) => id in lineage.nodes);
    const drawn = this.provisional;
    this.provisional = null;
    if (drawn && drawn.size === ids.length && ids.every((id) => drawn.has(id))) {
      this.metrics.provisional = "kept"; // the server's answer is what is drawn: no redraw
      this.store.set({ selection: sel, selectError: null });
      return true;
    }
    if (drawn) this.metrics.provisional = "replaced";
    this.store.set({ selection: sel, selectError: null, shown: { ids, edges: edgesAmong(lineage, ids) } });
    return true;
  }

  /**
   * The store patch that shows `ids` (the lineage's own reading of `sel`, with `edges` among
   * them and their layout `xy` if the data worker made it) at once, before the server has
   * answered `sel`; the next `apply` keeps it if the server's set is the same.
   */
  provisionally({ sel, ids, edges, xy }) {
    this.provisional = new Set(ids);
    this.metrics.provisional = "drawn"; // then "kept" or "replaced" when the server answers
    if (xy) this.layoutCache.set(layoutKey(ids, null), xy);
    return { selection: sel, selectError: null, shown: { ids, edges } };
  }

  /** Start the layout worker (it parses dagre), unless it is running: the first view of a
   * big project comes laid out from the data worker, so the page starts it after that view. */
  startWorker() {
    this.worker ??= new Worker("/layout-worker.js");
  }

  clearLayouts() {
    this.layoutCache.clear();
  }

  /**
   * Positions of `ids` from the layout worker; `ranks`: the columns to keep, if given. A
   * layout made before is returned as is, not as a promise, so that it is drawn at once.
   */
  layout(ids, edges, ranks = null) {
    const key = layoutKey(ids, ranks);
    const cached = this.layoutCache.get(key);
    if (cached) return { xy: cached, ms: 0, cached: true };
    if (this.pending) {
      // A layout of a large selection can take seconds; don't queue behind one nobody wants.
      this.worker.terminate();
      this.worker = null;
      this.pending(null);
    }
    this.startWorker();
    return new Promise((resolve) => {
      this.pending = resolve;
      this.worker.onmessage = (event) => {
        this.pending = null;
        this.layoutCache.set(key, event.data.xy);
        resolve({ xy: event.data.xy, ms: event.data.ms, cached: false });
      };
      this.worker.onerror = (event) => {
        this.pending = null;
        resolve({ error: event.message || "the layout worker failed" });
      };
      const flat = Int32Array.from(edges.flat());
      this.worker.postMessage({ ids, width: NODE_W, height: NODE_H, edges: flat, ranks }, [flat.buffer]);
    });
  }

  async draw(state) {
    const { shown, lineage } = state;
    const status = $("graph-status");
    if (!shown) return;
    const { ids, edges } = shown;
    if (!ids.length) {
      this.graph.setGraph([], []);
      status.textContent = state.selection?.view_mode === "changed_models"
        ? "No changed models in this selection. Switch to “All” to see the whole lineage."
        : "No nodes match this selection.";
      status.hidden = false;
      $("graph-count").textContent = "";
      return;
    }
    const seq = ++this.drawSeq;
    const started = performance.now();
    const grouped = state.group === "folder" ? groupByFolder(lineage, ids, edges, this.expanded) : null;
    const folded = state.group === "chains" ? collapseChains(lineage, ids, edges, this.expanded) : null;
    this.chains = folded?.chains ?? null;
    this.chainOf = folded?.chainOf ?? new Map();
    const drawIds = (grouped ?? folded)?.ids ?? ids, drawEdges = (grouped ?? folded)?.edges ?? edges;
    status.textContent = `Laying out ${drawIds.length.toLocaleString()} nodes…`;
    status.hidden = drawIds.length < 300 && this.graph.nodes.length > 0;
    let result = this.layout(drawIds, drawEdges, grouped?.ranks);
    if (result instanceof Promise) result = await result;
    if (result === null || seq !== this.drawSeq) return; // a newer selection superseded this one
    if (result.error) {
      status.textContent = `Could not lay out the graph: ${result.error}`;
      status.hidden = false;
      return;
    }
    const { xy, ms, cached } = result;
    const nodes = drawIds.map((id, i) => {
      const group = grouped?.groups.get(id);
      if (group) return { id, label: group.folder, resourceType: "folder", status: group.status, tag: groupTag(group.count, group.counts), group: true, x: xy[2 * i], y: xy[2 * i + 1] };
      const chain = folded?.chains.get(id);
      if (chain) return { id, label: `${chain.members.length} unchanged`, resourceType: "chain", status: "unchanged", tag: chainTag(chain.names), group: true, x: xy[2 * i], y: xy[2 * i + 1] };
      const node = lineage.nodes[id];
      return { id, label: node.name, resourceType: node.resource_type, status: node.change_status ?? "unchanged", category: node.category, x: xy[2 * i], y: xy[2 * i + 1] };
    });
    // Begin from what changed: the node or folder just expanded, the open node, else the
    // shown change with the most downstream (or its folder).
    const current = this.store.get();
    const focus = this.focusNext;
    this.focusNext = null;
    const mostImpact = (among) => {
      let best = -1, id = null;
      for (const each of among) {
        const impact = lineage.impact[each];
        if (impact !== undefined && impact > best) [best, id] = [impact, each];
      }
      return id;
    };
    let start = focus?.id ?? null;
    if (focus && !start) {
      const members = ids.filter((id) => lineage.nodes[id].folder === focus.folder);
      start = mostImpact(members) ?? members[0] ?? null;
    }
    start ??= current.panel?.kind === "node" ? current.panel.id : null;
    start ??= mostImpact(ids);
    if (start && grouped && !drawIds.includes(start)) start = groupId(lineage.nodes[start].folder);
    if (start && folded && !drawIds.includes(start)) start = this.chainOf.get(start) ?? null;
    const groupOf = grouped ? (id) => (lineage.nodes[id] ? groupId(lineage.nodes[id].folder) : null) : folded ? (id) => this.chainOf.get(id) ?? null : null;
    this.graph.setGraph(nodes, drawEdges, { start, center: !!focus, groupOf });
    if (current.panel?.kind === "node") this.graph.select(current.panel.id);
    status.hidden = true;
    this.metrics = { ...this.metrics, nodes: drawIds.length, edges: drawEdges.length, layoutMs: ms, layoutStart: started, totalMs: performance.now() - started, cached, drawnAt: performance.now() };
    const counts = `${ids.length.toLocaleString()} nodes · ${drawEdges.length.toLocaleString()} edges`;
    const chains = folded ? `${folded.chains.size.toLocaleString()} chain${folded.chains.size === 1 ? "" : "s"} folded · ` : "";
    $("graph-count").textContent = grouped ? `${grouped.groups.size.toLocaleString()} folders · ${counts}` : `${chains}${counts}`;
    $("group-collapse").hidden = !(grouped || folded) || this.expanded.size === 0;
  }

  /** Say when a frame leaves long edges out (graph.js draws the shortest 1,200 in view). */
  renderEdgeNote(hidden, inView) {
    const all = this.graph.allEdges;
    $("edges-note").hidden = !hidden && !(all && inView > EDGE_BUDGET);
    $("edges-text").textContent = all
      ? `All ${inView.toLocaleString()} edges in view drawn`
      : `${hidden.toLocaleString()} of ${inView.toLocaleString()} edges in view hidden (the longest)`;
    $("edges-toggle").textContent = all ? "Draw fewer" : "Show all";
    $("edges-toggle").title = all
      ? "Draw only the shortest 1,200 edges in view (faster)"
      : "Draw every edge in view once the view is still (slower on a big graph)";
  }

  renderPicked(state) {
    const { picked: ids, lineage } = state;
    if (!lineage) return;
    const name = (id) => lineage.nodes[id]?.name ?? id;
    this.graph.setPicked(ids);
    $("pick-hint").hidden = ids.length > 0;
    $("pick-chosen").hidden = ids.length === 0;
    $("pick-count").textContent = `${ids.length} selected:`;
    $("pick-list").replaceChildren(...ids.map((id) =>
      h("span", { class: "chip", dataset: { nodeId: id }, title: id },
        name(id),
        h("button", { class: "icon", title: `Remove ${name(id)} from the selection`,
          onclick: () => this.store.set({ picked: this.store.get().picked.filter((p) => p !== id) }) }, "×"))));
    $("pick-add").textContent = ids.length === 1 ? "Add schema diff check" : `Add schema diff check of ${ids.length} nodes`;
  }

  /** The first shown node named `text` (exactly, else containing it). */
  find(text) {
    const q = text.trim().toLowerCase();
    if (!q) return null;
    const { shown, lineage } = this.store.get();
    const nameOf = (id) => lineage.nodes[id].name.toLowerCase();
    return shown.ids.find((id) => id.toLowerCase() === q || nameOf(id) === q) ?? shown.ids.find((id) => nameOf(id).includes(q)) ?? null;
  }
}
