// The page's own layered layout, for graphs too big for dagre (a classic script for workers:
// importScripts("/layered.js") defines self.layered and self.LAYERED_ABOVE). Used by the
// layout worker, and by the data worker for the first view of a big project, which it lays
// out as soon as it has read /api/info, without a round trip through the page.

// Above this many nodes, dagre (crossing reduction, tidy edges) takes seconds: 5 to 20 s for
// 3,500 nodes, which would leave a reviewer of a big project looking at an empty canvas.
self.LAYERED_ABOVE = 1500;
self.RANK_SEP = 70; // between columns
self.NODE_SEP = 14; // between nodes in a column

/**
 * Columns by longest path from the roots (left to right, as dbt's DAG flows); within a
 * column, nodes ordered by the mean position of their parents (one sweep), so that a node
 * sits near what it reads from; each column centred on the same line.
 */
self.layered = function layered(n, width, height, edges, given = null) {
  const { RANK_SEP, NODE_SEP } = self;
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
};
