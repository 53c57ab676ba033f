// The minimap of the lineage canvas: the whole graph in a corner with the part in view
// outlined, shown only when part of the graph is out of view. Click or drag it to move.

import { STATUS_COLORS } from "./graph-paint.js";

const MINIMAP_W = 180, MINIMAP_H = 120;

export class Minimap {
  constructor(canvas, view) {
    this.canvas = canvas;
    this.view = view; // the GraphView: its bounds, zoom and offset
    this.image = null; // the nodes, drawn once per graph and copied each frame
    this._bind();
  }

  get hidden() {
    return this.canvas.hidden;
  }

  /** A new graph: draw its nodes afresh. */
  reset() {
    this.image = null;
    clearTimeout(this.building);
    this.building = null;
  }

  /** Hide the minimap when the whole graph is in view; else draw it. */
  update() {
    const v = this.view, b = v.bounds;
    const inView = b && b.x0 * v.k + v.tx >= -1 && b.y0 * v.k + v.ty >= -1
      && b.x1 * v.k + v.tx <= v.width + 1 && b.y1 * v.k + v.ty <= v.height + 1;
    const hidden = !v.nodes.length || inView;
    if (this.canvas.hidden !== hidden) this.canvas.hidden = hidden; // each frame: no needless style work
  }

  _scale() {
    const { x0, y0, x1, y1 } = this.view.bounds;
    const s = Math.min((MINIMAP_W - 8) / (x1 - x0), (MINIMAP_H - 8) / (y1 - y0));
    return { s, ox: (MINIMAP_W - (x1 - x0) * s) / 2 - x0 * s, oy: (MINIMAP_H - (y1 - y0) * s) / 2 - y0 * s };
  }

  draw() {
    const mm = this.canvas, v = this.view;
    const dpr = v.dpr;
    if (mm.width !== MINIMAP_W * dpr) {
      mm.width = MINIMAP_W * dpr;
      mm.height = MINIMAP_H * dpr;
      mm.style.width = `${MINIMAP_W}px`;
      mm.style.height = `${MINIMAP_H}px`;
      this.image = null;
    }
    const ctx = mm.getContext("2d");
    const { s, ox, oy } = this._scale();
    if (!this.image && !this.building) {
      // Drawn in a task of its own after this frame: the first view of a big graph shows
      // without waiting for thousands of dots.
      this.building = setTimeout(() => {
        this.building = null;
        this._build();
        if (!this.hidden) this.draw();
      });
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, mm.width, mm.height);
    if (this.image) ctx.drawImage(this.image, 0, 0);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    // The part of the graph in view.
    const vx = (-v.tx / v.k) * s + ox, vy = (-v.ty / v.k) * s + oy;
    const vw = (v.width / v.k) * s, vh = (v.height / v.k) * s;
    ctx.strokeStyle = "#3b6fd8";
    ctx.lineWidth = 1.5;
    ctx.strokeRect(Math.max(0.5, vx), Math.max(0.5, vy), Math.min(vw, MINIMAP_W - 1), Math.min(vh, MINIMAP_H - 1));
  }

  /** The nodes as dots, drawn once per graph and copied each frame. */
  _build() {
    const mm = this.canvas, v = this.view, dpr = v.dpr;
    const { s, ox, oy } = this._scale();
    const img = new OffscreenCanvas(mm.width, mm.height);
    const ictx = img.getContext("2d");
    ictx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ictx.fillStyle = "#fff";
    ictx.fillRect(0, 0, MINIMAP_W, MINIMAP_H);
    for (const [status, colors] of Object.entries(STATUS_COLORS)) {
      ictx.fillStyle = status === "unchanged" ? "#c3cad3" : colors.stroke;
      const size = status === "unchanged" ? 1.5 : 2.5;
      for (const n of v.nodes) {
        if (n.status !== status) continue;
        ictx.fillRect(n.x * s + ox - size / 2, n.y * s + oy - size / 2, size, size);
      }
    }
    this.image = img;
  }

  _bind() {
    const mm = this.canvas, v = this.view;
    const moveTo = (e) => {
      if (!v.nodes.length) return;
      const rect = mm.getBoundingClientRect();
      const { s, ox, oy } = this._scale();
      const wx = (e.clientX - rect.left - ox) / s, wy = (e.clientY - rect.top - oy) / s;
      v.tx = v.width / 2 - wx * v.k;
      v.ty = v.height / 2 - wy * v.k;
      v.redraw();
    };
    let dragging = false;
    mm.addEventListener("pointerdown", (e) => {
      dragging = true;
      mm.setPointerCapture(e.pointerId);
      moveTo(e);
    });
    mm.addEventListener("pointermove", (e) => dragging && moveTo(e));
    mm.addEventListener("pointerup", () => (dragging = false));
  }
}
