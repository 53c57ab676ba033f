// The lineage drawn on a canvas: pan, zoom, click. Only what is on screen is drawn, and
// labels only when they are legible, so thousands of nodes stay smooth. Semantic zoom: when
// zoomed out too far for node labels, the changed nodes keep screen-size labels where they
// fit. The minimap (minimap.js) shows the whole graph and the part in view; the node
// decorations and far-out labels are drawn by graph-paint.js.

import { drawChangedLabels, drawGroupBacks, drawPicked, edgePath, NODE_H, NODE_W, shortestEdges, STATUS_COLORS } from "./graph-paint.js";
import { Minimap } from "./minimap.js";

export { NODE_H, NODE_W, STATUS_COLORS };

const MIN_ZOOM = 0.003;
const MAX_ZOOM = 3;
export const LEGIBLE_ZOOM = 0.55; // node names and types drawn at 13/11 px: readable
const LABEL_ZOOM = 0.3; // below this, only the changed nodes' screen-size labels
export const EDGE_BUDGET = 1200; // edges drawn per still frame at most, unless all are asked for
const MOVING_EDGE_BUDGET = 300; // while panning or zooming; the full frame follows when it stops
const SETTLE_MS = 160;

export class GraphView {
  constructor(canvas, { onSelect, onPick, onEdges, minimap = null } = {}) {
    this.canvas = canvas;
    this.minimap = minimap ? new Minimap(minimap, this) : null;
    this.ctx = canvas.getContext("2d");
    this.onSelect = onSelect ?? (() => {});
    this.onPick = onPick ?? (() => {}); // shift-click: add to / remove from the multi-node selection
    this.onEdges = onEdges ?? (() => {}); // (hidden, inView): the long edges a full frame left out
    this.allEdges = false; // draw every edge in view when still (slower on a big graph)
    this.edgesHidden = 0;
    this.edgesInView = 0;
    this.picked = new Set(); // ids marked with a tick
    this.highlight = new Set(); // ids ringed in violet (column lineage, impact radius: cll-view.js)
    this.ringed = new Set(); // what is drawn ringed: those ids, or the folders that hold them
    this.groupOf = null; // node id -> the drawn group holding it (groups.js), when grouped
    this.nodes = []; // {id, name, resourceType, status, x, y} with x, y the centre
    this.edges = []; // [sourceIndex, targetIndex]
    this.index = new Map();
    this.selected = -1;
    this.k = 1;
    this.tx = 0;
    this.ty = 0;
    this.dirty = false;
    this.lastFrameMs = 0;
    this.movedAt = 0; // last pan or zoom: frames right after it are drawn lighter
    this._bindEvents();
    new ResizeObserver(() => this._resize()).observe(canvas.parentElement);
    this._resize();
  }

  /**
   * Show a graph. The first view is readable: the whole graph if it fits at a legible zoom,
   * else a legible zoom centred on `start` (the node to begin the review from).
   */
  setGraph(nodes, edges, { start = null, center = false, groupOf = null } = {}) {
    const keep = this.selectedId; // the selected node of the graph shown until now
    this.nodes = nodes;
    this.edges = edges;
    this.index = new Map(nodes.map((n, i) => [n.id, i]));
    this.groupOf = groupOf;
    this._ringed();
    this.selected = keep !== null && this.index.has(keep) ? this.index.get(keep) : -1;
    this.bounds = this._bounds();
    this.minimap?.reset();
    this.fit();
    // `center`: always centre on `start` (e.g. a folder just expanded), not only when the
    // whole graph is not legible.
    const focus = center ? start : [keep, start].find((id) => id !== null && this.index.has(id));
    if ((center || this.k < LEGIBLE_ZOOM) && focus != null && this.index.has(focus)) this.centerOn(focus, Math.max(this.k, LEGIBLE_ZOOM + 0.25));
  }

  /** Ring these node ids (an empty list clears the rings). */
  setHighlight(ids) {
    this.highlight = new Set(ids);
    this.canvas.dataset.highlighted = [...this.highlight].sort().join(" "); // for tests and tools
    this._ringed();
    this.redraw();
  }

  /** The drawn nodes to ring: a highlighted node, else the group it is folded into. */
  _ringed() {
    this.ringed = new Set([...this.highlight].map((id) => (this.index.has(id) ? id : this.groupOf?.(id) ?? id)));
    this.canvas.dataset.ringed = [...this.ringed].sort().join(" ");
  }

  /** Whether node names are drawn at a size a person can read. */
  get legible() {
    return this.nodes.length > 0 && this.k >= LEGIBLE_ZOOM;
  }

  centerOn(id, k = Math.max(this.k, LEGIBLE_ZOOM + 0.25)) {
    const i = this.index.get(id);
    if (i === undefined) return;
    const n = this.nodes[i];
    this.k = Math.min(MAX_ZOOM, k);
    this.tx = this.width / 2 - n.x * this.k;
    this.ty = this.height / 2 - n.y * this.k;
    this.redraw();
  }

  _bounds() {
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const n of this.nodes) {
      if (n.x - NODE_W / 2 < x0) x0 = n.x - NODE_W / 2;
      if (n.y - NODE_H / 2 < y0) y0 = n.y - NODE_H / 2;
      if (n.x + NODE_W / 2 > x1) x1 = n.x + NODE_W / 2;
      if (n.y + NODE_H / 2 > y1) y1 = n.y + NODE_H / 2;
    }
    return { x0, y0, x1, y1 };
  }

  /** Draw every edge in view once the view is still (true), or the shortest 1,200 (false). */
  showAllEdges(on) {
    this.allEdges = on;
    this.redraw();
  }

  /** Mark these node ids as picked (the multi-node selection). */
  setPicked(ids) {
    this.picked = new Set(ids);
    this.redraw();
  }

  get selectedId() {
    return this.selected >= 0 ? this.nodes[this.selected]?.id ?? null : null;
  }

  select(id, { center = false } = {}) {
    this.selected = this.index.has(id) ? this.index.get(id) : -1;
    if (center && this.selected >= 0) this.centerOn(id, Math.max(this.k, 0.8));
    this.redraw();
  }

  fit() {
    if (!this.nodes.length) {
      this.redraw();
      return;
    }
    const { x0, y0, x1, y1 } = this.bounds ?? this._bounds();
    const pad = 30;
    const k = Math.min((this.width - pad * 2) / (x1 - x0), (this.height - pad * 2) / (y1 - y0), 1);
    this.k = Math.max(MIN_ZOOM, k);
    this.tx = (this.width - (x1 - x0) * this.k) / 2 - x0 * this.k;
    this.ty = (this.height - (y1 - y0) * this.k) / 2 - y0 * this.k;
    this.redraw();
  }

  zoomBy(factor, sx = this.width / 2, sy = this.height / 2) {
    this.movedAt = performance.now();
    const k = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, this.k * factor));
    this.tx = sx - ((sx - this.tx) * k) / this.k;
    this.ty = sy - ((sy - this.ty) * k) / this.k;
    this.k = k;
    this.redraw();
  }

  /** Where a node's centre is on the page (for tests and tooltips). */
  screenPosition(id) {
    const i = this.index.get(id);
    if (i === undefined) return null;
    const rect = this.canvas.getBoundingClientRect();
    const n = this.nodes[i];
    return { x: rect.left + n.x * this.k + this.tx, y: rect.top + n.y * this.k + this.ty };
  }

  /** Short texts drawn after a node's type, by node id (e.g. its row counts). */
  setNotes(notes) {
    this.notes = notes;
    this.redraw();
  }

  redraw() {
    if (this.dirty) return;
    this.dirty = true;
    requestAnimationFrame(() => {
      this.dirty = false;
      this._draw();
    });
  }

  _resize() {
    const box = this.canvas.parentElement.getBoundingClientRect();
    this.width = Math.max(1, box.width);
    this.height = Math.max(1, box.height);
    this.dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(this.width * this.dpr);
    this.canvas.height = Math.round(this.height * this.dpr);
    this.canvas.style.width = `${this.width}px`;
    this.canvas.style.height = `${this.height}px`;
    this.redraw();
  }

  _draw() {
    const started = performance.now();
    const { ctx, k, dpr } = this;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    this.minimap?.update();
    if (!this.nodes.length) {
      if (this.edgesInView) this.onEdges((this.edgesHidden = 0), (this.edgesInView = 0));
      return;
    }
    ctx.setTransform(dpr * k, 0, 0, dpr * k, dpr * this.tx, dpr * this.ty);
    // The visible world rectangle, with a node's margin so edges entering the view are kept.
    const vx0 = -this.tx / k - NODE_W, vy0 = -this.ty / k - NODE_H;
    const vx1 = (this.width - this.tx) / k + NODE_W, vy1 = (this.height - this.ty) / k + NODE_H;
    const nodes = this.nodes;
    // `inView` lists the `visible` nodes: a legible view of a big graph has a few dozen of them.
    const visible = new Uint8Array(nodes.length);
    const inView = [];
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i];
      if (n.x >= vx0 && n.x <= vx1 && n.y >= vy0 && n.y <= vy1) inView.push(i);
    }
    for (const i of inView) visible[i] = 1;

    // Edges: one path for all, curves only when they can be told apart from lines.
    const curves = k > 0.25;
    const sel = this.selected;
    // One CSS pixel below 1:1: a hairline at 1 device pixel, 4-10x faster to raster (docs/ui.md).
    ctx.lineWidth = k < 1 ? 0.999 / k : 1;
    // Far out, thousands of edges would hide the nodes: fade them.
    ctx.strokeStyle = k > 0.15 ? "#b8c0c9" : "rgba(150, 160, 172, 0.25)";
    ctx.beginPath();
    const highlighted = [];
    const drawn = []; // edges that cross the view
    for (const edge of this.edges) {
      const [s, t] = edge;
      const a = nodes[s], b = nodes[t];
      if (s === sel || t === sel) {
        highlighted.push(edge);
        continue;
      }
      if (!visible[s] && !visible[t]) {
        const ax = a.x + NODE_W / 2, bx = b.x - NODE_W / 2;
        if (Math.max(ax, bx) < vx0 || Math.min(ax, bx) > vx1) continue;
        if (Math.max(a.y, b.y) < vy0 || Math.min(a.y, b.y) > vy1) continue;
      }
      drawn.push(edge);
    }
    // Level of detail: on a big graph thousands of long edges cross any view. Rasterizing them
    // all costs hundreds of milliseconds a frame, and together they are noise: keep the
    // shortest EDGE_BUDGET (the selected node's edges are always drawn, highlighted).
    const moving = performance.now() - this.movedAt < SETTLE_MS;
    const budget = moving ? MOVING_EDGE_BUDGET : this.allEdges ? Infinity : EDGE_BUDGET;
    const hidden = Math.max(0, drawn.length - budget);
    if (!moving && (hidden !== this.edgesHidden || drawn.length !== this.edgesInView)) {
      this.edgesHidden = hidden;
      this.edgesInView = drawn.length;
      this.onEdges(hidden, drawn.length); // what a settled frame left out, for the page to say
    }
    const kept = hidden ? shortestEdges(this, drawn, budget) : drawn;
    if (moving) {
      clearTimeout(this.settleTimer);
      this.settleTimer = setTimeout(() => this.redraw(), SETTLE_MS);
    }
    // Curves cost about twice as much to rasterize as lines: only for a few hundred edges.
    const curved = curves && kept.length <= 400;
    for (const [s, t] of kept) edgePath(ctx, nodes[s].x + NODE_W / 2, nodes[s].y, nodes[t].x - NODE_W / 2, nodes[t].y, curved);
    ctx.stroke();
    if (highlighted.length) {
      ctx.strokeStyle = "#3b6fd8";
      ctx.lineWidth = Math.max(2, 2 / k);
      ctx.beginPath();
      for (const [s, t] of highlighted) {
        edgePath(ctx, nodes[s].x + NODE_W / 2, nodes[s].y, nodes[t].x - NODE_W / 2, nodes[t].y, curves);
      }
      ctx.stroke();
    }

    // Nodes, batched by colour; a group (a folder's nodes: groups.js) as a stack of two cards.
    const detailed = k > LABEL_ZOOM;
    drawGroupBacks(this, inView);
    for (const [status, colors] of Object.entries(STATUS_COLORS)) {
      ctx.beginPath();
      for (const i of inView) {
        const n = nodes[i];
        if (n.status !== status) continue;
        const x = n.x - NODE_W / 2, y = n.y - NODE_H / 2;
        if (detailed) ctx.roundRect(x, y, NODE_W, NODE_H, 6);
        else ctx.rect(x, y, NODE_W, NODE_H);
      }
      ctx.fillStyle = colors.fill;
      ctx.fill();
      ctx.strokeStyle = colors.stroke;
      // Changed nodes keep a few pixels of outline at any zoom so they can be spotted.
      ctx.lineWidth = status === "unchanged" ? Math.min(1.5, 1 / k) : Math.max(2.5, 3 / k);
      ctx.stroke();
    }
    if (this.highlight.size) {
      ctx.beginPath();
      for (const i of inView) {
        if (this.ringed.has(nodes[i].id)) ctx.roundRect(nodes[i].x - NODE_W / 2 - 3, nodes[i].y - NODE_H / 2 - 3, NODE_W + 6, NODE_H + 6, 8);
      }
      ctx.strokeStyle = "#8a3ffc";
      ctx.lineWidth = Math.max(3, 3 / k);
      ctx.stroke();
    }
    if (sel >= 0 && visible[sel]) {
      const n = nodes[sel];
      ctx.beginPath();
      ctx.roundRect(n.x - NODE_W / 2 - 4, n.y - NODE_H / 2 - 4, NODE_W + 8, NODE_H + 8, 9);
      ctx.strokeStyle = "#3b6fd8";
      ctx.lineWidth = Math.max(3, 3 / k);
      ctx.stroke();
    }
    drawPicked(this, visible);

    if (detailed) {
      ctx.textBaseline = "middle";
      for (const i of inView) {
        const n = nodes[i];
        const colors = STATUS_COLORS[n.status];
        const x = n.x - NODE_W / 2 + 10;
        ctx.fillStyle = colors.text;
        ctx.font = "600 13px system-ui, sans-serif";
        ctx.fillText(n.label, x, n.y - (k > 0.55 ? 7 : 0), NODE_W - 20);
        if (k > 0.55) {
          ctx.font = "11px system-ui, sans-serif";
          ctx.fillStyle = "#6a737d";
          let tag = n.tag ?? (n.status === "unchanged" ? n.resourceType : `${n.resourceType} · ${n.status}`);
          if (n.category && n.category !== "unknown") tag += ` · ${n.category.replace("_", " ")}`;
          const note = this.notes?.get(n.id);
          if (note) tag += ` · ${note}`;
          ctx.fillText(tag, x, n.y + 10, NODE_W - 20);
        }
      }
    }
    this.farLabels = !detailed && !moving ? drawChangedLabels(this, inView) : []; // the ids labelled
    if (this.minimap && !this.minimap.hidden) this.minimap.draw();
    this.lastFrameMs = performance.now() - started;
    // The first frame with legible names is on screen by the next animation frame.
    if (this.firstLegibleAt === undefined && this.legible) {
      this.firstLegibleAt = null;
      this.firstLegibleFrame = { at: started, ms: this.lastFrameMs }; // for bench/page_load.py
      requestAnimationFrame(() => (this.firstLegibleAt = performance.now()));
    }
  }

  _hit(sx, sy) {
    const wx = (sx - this.tx) / this.k, wy = (sy - this.ty) / this.k;
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i];
      if (Math.abs(wx - n.x) <= NODE_W / 2 && Math.abs(wy - n.y) <= NODE_H / 2) return i;
    }
    return -1;
  }

  _bindEvents() {
    const canvas = this.canvas;
    let drag = null;
    canvas.addEventListener("pointerdown", (e) => {
      canvas.setPointerCapture(e.pointerId);
      drag = { x: e.clientX, y: e.clientY, tx: this.tx, ty: this.ty, moved: false };
    });
    canvas.addEventListener("pointermove", (e) => {
      if (!drag) {
        const rect = canvas.getBoundingClientRect();
        canvas.style.cursor = this._hit(e.clientX - rect.left, e.clientY - rect.top) >= 0 ? "pointer" : "grab";
        return;
      }
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      if (drag.moved) {
        this.movedAt = performance.now();
        this.tx = drag.tx + dx;
        this.ty = drag.ty + dy;
        canvas.style.cursor = "grabbing";
        this.redraw();
      }
    });
    canvas.addEventListener("pointerup", (e) => {
      if (drag && !drag.moved) {
        const rect = canvas.getBoundingClientRect();
        const i = this._hit(e.clientX - rect.left, e.clientY - rect.top);
        if (e.shiftKey || e.metaKey) {
          if (i >= 0) this.onPick(this.nodes[i].id);
        } else {
          this.selected = i;
          this.redraw();
          this.onSelect(i >= 0 ? this.nodes[i].id : null);
        }
      }
      drag = null;
    });
    canvas.addEventListener(
      "wheel",
      (e) => {
        e.preventDefault();
        const rect = canvas.getBoundingClientRect();
        const factor = Math.exp(-e.deltaY * (e.ctrlKey ? 0.01 : 0.0015));
        this.zoomBy(factor, e.clientX - rect.left, e.clientY - rect.top);
      },
      { passive: false },
    );
  }
}
