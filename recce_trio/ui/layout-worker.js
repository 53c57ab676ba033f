// Lays out the shown part of the lineage off the main thread.
// In: {ids: [unique_id], width, height (of every node), edges: Int32Array [s0, t0, s1, t1, ...],
//      ranks: Int32Array (each node's column) or null}
// Out: {xy: Float64Array [x0, y0, x1, y1, ...] (node centres), ms, engine}
// Up to LARGE nodes: dagre (crossing reduction, tidy edges). Above: a layered layout of our
// own in linear time (dagre needs 5 to 20 s for 3,500 nodes, which leaves a reviewer of a big
// project looking at an empty canvas).
/* global dagre, importScripts */
importScripts("/vendor/dagre.min.js");

const LARGE = 1500;
const RANK_SEP = 70, NODE_SEP = 14;

self.onmessage = (event) => {
  const { ids, width, height, edges, ranks } = event.data;
  const started = performance.now();
  // Given columns (a graph of folders, which may have cycles: groups.js) are kept as given.
  const large = ids.length > LARGE || !!ranks;
  const xy = large ? layered(ids.length, width, height, edges, ranks) : withDagre(ids, width, height, edges);
  self.postMessage({ xy, ms: performance.now() - started, engine: large ? "layered" : "dagre" }, [xy.buffer]);
};

function withDagre(ids, width, height, edges) {
  const g = new dagre.graphlib.Graph({ multigraph: false });
  g.setGraph({ rankdir: "LR", nodesep: NODE_SEP, ranksep: RANK_SEP, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const uid of ids) g.setNode(uid, { width, height });
  for (let e = 0; e < edges.length; e += 2) g.setEdge(ids[edges[e]], ids[edges[e + 1]]);
  dagre.layout(g);
  const xy = new Float64Array(ids.length * 2);
  ids.forEach((uid, i) => {
    const n = g.node(uid);
    xy[2 * i] = n.x;
    xy[2 * i + 1] = n.y;
  });
  return xy;
}

/**
 * Columns by longest path from the roots (left to right, as dbt's DAG flows); within a
 * column, nodes ordered by the mean position of their parents (one sweep), so that a node
 * sits near what it reads from; each column centred on the same line.
 */
function layered(n, width, height, edges, given = null) {
  const children = Array.from({ length: n }, () => []);
  const parents = Array.from({ length: n }, () => []);
  const indegree = new Int32Array(n);
  for (let e = 0; e < edges.length; e += 2) {
    const s = edges[e], t = edges[e + 1];
    children[s].push(t);
    parents[t].push(s);
    indegree[t]++;
  }
  const rank = given ?? new Int32Array(n);
  const order = [];
  if (given) {
    for (let i = 0; i < n; i++) order.push(i);
  } else {
    const done = new Uint8Array(n);
    for (let i = 0; i < n; i++) if (!indegree[i]) order.push(i);
    for (let head = 0; head < order.length; head++) {
      const i = order[head];
      done[i] = 1;
      for (const c of children[i]) {
        if (rank[c] < rank[i] + 1) rank[c] = rank[i] + 1;
        if (--indegree[c] === 0) order.push(c);
      }
    }
    // A cycle (not in a valid dbt project) leaves nodes unvisited: they keep the rank reached.
    for (let i = 0; i < n; i++) if (!done[i]) order.push(i);
  }
  const columns = [];
  for (const i of order) (columns[rank[i]] ??= []).push(i);
  const pos = new Float64Array(n);
  const xy = new Float64Array(n * 2);
  const step = height + NODE_SEP;
  columns.forEach((column, r) => {
    if (r > 0) {
      const key = new Float64Array(n);
      for (const i of column) {
        let sum = 0, count = 0;
        for (const p of parents[i]) if (rank[p] < r) { sum += pos[p]; count++; }
        key[i] = count ? sum / count : Infinity;
      }
      column.sort((a, b) => key[a] - key[b] || a - b);
    }
    const offset = ((column.length - 1) * step) / 2;
    column.forEach((i, k) => {
      pos[i] = k * step - offset;
      xy[2 * i] = 20 + width / 2 + r * (width + RANK_SEP);
      xy[2 * i + 1] = pos[i];
    });
  });
  return xy;
}
