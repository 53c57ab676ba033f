// Fetches and parses /api/info off the main thread (it is megabytes on a big project) and
// returns only what the page draws: Recce's merged lineage (`lineage.nodes`, `edges`,
// `metadata`) in compact form, plus each changed node's downstream impact (descendants).
// Node details (columns, code) are fetched per node from /api/models/{id}.

self.onmessage = async () => {
  const started = performance.now();
  try {
    const response = await fetch("/api/info");
    const text = await response.text();
    if (!response.ok) {
      let message = `GET /api/info failed with HTTP ${response.status}`;
      try {
        const body = JSON.parse(text);
        message = body.detail ?? body.error ?? message;
      } catch {}
      self.postMessage({ error: message, status: response.status });
      return;
    }
    const info = JSON.parse(text);
    const fetchedMs = performance.now() - started;
    self.postMessage({ ...slim(info), fetchedMs, ms: performance.now() - started, bytes: text.length });
  } catch (err) {
    self.postMessage({ error: `Could not load the lineage (${err.message}).`, status: 0 });
  }
};

function slim(info) {
  const lineage = info.lineage ?? {};
  if (!lineage.nodes || !Array.isArray(lineage.edges)) {
    throw new Error("/api/info has no merged lineage (lineage.nodes and lineage.edges)");
  }
  const ids = Object.keys(lineage.nodes).sort();
  const index = new Map(ids.map((id, i) => [id, i]));
  const nodes = {};
  for (const id of ids) {
    const n = lineage.nodes[id];
    nodes[id] = {
      name: n.name,
      resource_type: n.resource_type,
      package_name: n.package_name ?? "",
      materialized: n.materialized ?? null,
      change_status: n.change_status ?? null,
      columns_changed: n.change?.columns ?? null,
      category: n.change?.category ?? null,
      tags: n.tags ?? [],
    };
  }
  // Edges as [source index, target index, change status or null].
  const edges = [];
  const children = ids.map(() => []);
  for (const e of lineage.edges) {
    const s = index.get(e.source), t = index.get(e.target);
    if (s === undefined || t === undefined || s === t) continue;
    edges.push([s, t, e.change_status ?? null]);
    children[s].push(t);
  }
  // Downstream impact of each changed node: how many nodes depend on it, transitively.
  const impact = {};
  const seen = new Int32Array(ids.length).fill(-1);
  const stack = [];
  ids.forEach((id, start) => {
    if (!nodes[id].change_status) return;
    let count = 0;
    stack.push(start);
    seen[start] = start;
    while (stack.length) {
      const i = stack.pop();
      for (const c of children[i]) {
        if (seen[c] === start) continue;
        seen[c] = start;
        count++;
        stack.push(c);
      }
    }
    impact[id] = count;
  });
  const { lineage: _dropped, ...rest } = info;
  return {
    info: rest,
    lineage: { ids, nodes, edges, metadata: lineage.metadata ?? {}, impact },
  };
}
