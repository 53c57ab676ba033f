// Lays out the shown part of the lineage off the main thread.
// In: {ids: [unique_id], width, height (of every node), edges: Int32Array [s0, t0, s1, t1, ...],
//      ranks: Int32Array (each node's column) or null}
// Out: {xy: Float64Array [x0, y0, x1, y1, ...] (node centres), ms, engine}
// Up to LAYERED_ABOVE nodes: dagre (crossing reduction, tidy edges). Above: the layered
// layout of our own in linear time (layered.js).
/* global dagre, importScripts, layered, LAYERED_ABOVE, RANK_SEP, NODE_SEP */
importScripts("/vendor/dagre.min.js", "/layered.js");

self.onmessage = (event) => {
  const { ids, width, height, edges, ranks } = event.data;
  const started = performance.now();
  // Given columns (a graph of folders, which may have cycles: groups.js) are kept as given.
  const large = ids.length > LAYERED_ABOVE || !!ranks;
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
