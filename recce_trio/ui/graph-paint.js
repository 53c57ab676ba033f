// What the lineage canvas draws besides the plain nodes and edges: the node size and status
// colours shared with the layout and the minimap, edge paths, the ticks of picked nodes, and
// the screen-size labels of changed nodes when zoomed far out.

export const NODE_W = 220;
export const NODE_H = 44;

// In drawing order: changed nodes last, so they stay visible when zoomed far out.
export const STATUS_COLORS = {
  unchanged: { fill: "#ffffff", stroke: "#a9b1bb", text: "#2b3137" },
  modified: { fill: "#fff3e0", stroke: "#e8830c", text: "#7a4300" },
  added: { fill: "#e6f6ea", stroke: "#1f9d47", text: "#0d5a26" },
  removed: { fill: "#fdeaea", stroke: "#d93025", text: "#8a1b14" },
};

const MAX_FAR_LABELS = 150; // screen-size labels of changed nodes when zoomed far out

/** Add an edge from (ax, ay) to (bx, by) to the current path: a curve, or a line when far out. */
export function edgePath(ctx, ax, ay, bx, by, curves) {
  ctx.moveTo(ax, ay);
  if (curves) {
    const dx = Math.max(30, (bx - ax) / 2);
    ctx.bezierCurveTo(ax + dx, ay, bx - dx, by, bx, by);
  } else {
    ctx.lineTo(bx, by);
  }
}

/**
 * The `budget` shortest of `drawn` (edges of `view.edges`, in their order), shortest first:
 * what a stable sort of `drawn` by length gives, without sorting thousands of edges each
 * frame (5-30 ms far out on a big graph). The edges are ranked by length once per graph.
 */
export function shortestEdges(view, drawn, budget) {
  const { nodes, edges } = view;
  if (view.ranked?.nodes !== nodes || view.ranked.edges !== edges) {
    const length = ([s, t]) => Math.abs(nodes[t].x - nodes[s].x) + Math.abs(nodes[t].y - nodes[s].y);
    view.ranked = { nodes, edges, order: edges.slice().sort((e, f) => length(e) - length(f)) }; // stable
  }
  const wanted = new Set(drawn);
  const kept = [];
  for (const edge of view.ranked.order) {
    if (kept.length === budget) break;
    if (wanted.has(edge)) kept.push(edge);
  }
  return kept;
}

/** The card behind each group node in view (`inView`: their indexes), offset up and right, so a group reads as a stack. */
export function drawGroupBacks(view, inView) {
  const { ctx, k, nodes } = view;
  if (!inView.some((i) => nodes[i].group)) return;
  for (const [status, colors] of Object.entries(STATUS_COLORS)) {
    ctx.beginPath();
    for (const i of inView) {
      const n = nodes[i];
      if (n.group && n.status === status) ctx.rect(n.x - NODE_W / 2 + 6, n.y - NODE_H / 2 - 6, NODE_W, NODE_H);
    }
    ctx.fillStyle = colors.fill;
    ctx.fill();
    ctx.strokeStyle = colors.stroke;
    ctx.lineWidth = Math.max(1, 1.2 / k);
    ctx.stroke();
  }
}

/** Picked nodes (in world coordinates): a dashed outline and a tick in the top-right corner. */
export function drawPicked(view, visible) {
  const { ctx, k, nodes } = view;
  for (const id of view.picked) {
    const i = view.index.get(id);
    if (i === undefined || !visible[i]) continue;
    const n = nodes[i];
    const r = Math.max(9, 5 / k);
    ctx.beginPath();
    ctx.roundRect(n.x - NODE_W / 2 - 4, n.y - NODE_H / 2 - 4, NODE_W + 8, NODE_H + 8, 9);
    ctx.setLineDash([6 / Math.min(1, k), 4 / Math.min(1, k)]);
    ctx.strokeStyle = "#3b6fd8";
    ctx.lineWidth = Math.max(2, 2 / k);
    ctx.stroke();
    ctx.setLineDash([]);
    const cx = n.x + NODE_W / 2, cy = n.y - NODE_H / 2;
    ctx.beginPath();
    ctx.arc(cx, cy, r, 0, 2 * Math.PI);
    ctx.fillStyle = "#3b6fd8";
    ctx.fill();
    ctx.beginPath();
    ctx.moveTo(cx - r * 0.45, cy);
    ctx.lineTo(cx - r * 0.1, cy + r * 0.35);
    ctx.lineTo(cx + r * 0.5, cy - r * 0.35);
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = Math.max(1.5, r * 0.22);
    ctx.stroke();
  }
}

/**
 * Zoomed far out: screen-size labels for changed nodes, skipped where they would overlap.
 * Returns the ids of the nodes labelled.
 */
export function drawChangedLabels(view, inView) {
  const { ctx, k, dpr, nodes } = view;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.font = "600 12px system-ui, sans-serif";
  ctx.textBaseline = "middle";
  const taken = new Set();
  const CW = 150, CH = 18;
  const drawn = [];
  for (const i of inView) {
    if (drawn.length >= MAX_FAR_LABELS) break;
    const n = nodes[i];
    if (n.status === "unchanged") continue;
    const sx = n.x * k + view.tx, sy = n.y * k + view.ty;
    if (sx < -CW || sx > view.width || sy < 0 || sy > view.height) continue;
    const cx = Math.floor(sx / CW), cy = Math.floor(sy / CH);
    if (taken.has(`${cx},${cy}`) || taken.has(`${cx + 1},${cy}`) || taken.has(`${cx - 1},${cy}`)) continue;
    taken.add(`${cx},${cy}`);
    const x = sx - (NODE_W * k) / 2 + 2;
    // A plain backdrop: stroking text for a halo costs as much again as the text.
    ctx.fillStyle = "rgba(255,255,255,0.85)";
    ctx.fillRect(x - 2, sy - 8, Math.min(CW - 4, ctx.measureText(n.label).width + 4), 16);
    ctx.fillStyle = STATUS_COLORS[n.status].text;
    ctx.fillText(n.label, x, sy, CW - 6);
    drawn.push(n.id);
  }
  return drawn;
}
