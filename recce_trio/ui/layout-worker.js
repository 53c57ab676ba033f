// Lays out the shown part of the lineage with dagre, off the main thread.
// In: {nodes: [[unique_id, width, height]], edges: [[sourceIndex, targetIndex]]}
// Out: {xy: Float64Array [x0, y0, x1, y1, ...] (node centres), ms}
/* global dagre, importScripts */
importScripts("/vendor/dagre.min.js");

// Above this many nodes dagre's network-simplex ranking and crossing-reduction sweeps take
// tens of seconds; longest-path ranking with a single ordering pass stays near 10 s at 6,000.
const LARGE = 1500;

self.onmessage = (event) => {
  const { nodes, edges } = event.data;
  const started = performance.now();
  const large = nodes.length > LARGE;
  const g = new dagre.graphlib.Graph({ multigraph: false });
  g.setGraph({
    rankdir: "LR",
    nodesep: 14,
    ranksep: 70,
    marginx: 20,
    marginy: 20,
    ranker: large ? "longest-path" : "network-simplex",
  });
  g.setDefaultEdgeLabel(() => ({}));
  for (const [uid, width, height] of nodes) g.setNode(uid, { width, height });
  for (const [s, t] of edges) g.setEdge(nodes[s][0], nodes[t][0]);
  dagre.layout(g, { disableOptimalOrderHeuristic: large });
  const xy = new Float64Array(nodes.length * 2);
  nodes.forEach(([uid], i) => {
    const n = g.node(uid);
    xy[2 * i] = n.x;
    xy[2 * i + 1] = n.y;
  });
  self.postMessage({ xy, ms: performance.now() - started }, [xy.buffer]);
};
