// Fetches and parses /api/info off the main thread (it is megabytes on a big project) and
// returns only what the page draws: Recce's merged lineage (`lineage.nodes`, `edges`,
// `metadata`) in compact form, plus each changed node's downstream impact (descendants).
// Node details (columns, code) are fetched per node from /api/models/{id}.

// Times are sent as epoch milliseconds (a worker's performance.now() has its own origin).
const now = () => performance.timeOrigin + performance.now();

self.onmessage = async () => {
  const started = performance.now();
  const at = { asked: now() };
  try {
    const response = await fetch("/api/info");
    at.answered = now();
    const text = await response.text();
    at.received = now();
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
    at.parsed = now();
    const slimmed = slim(info);
    at.slimmed = now();
    const { edges, changedView, packed } = slimmed.lineage;
    const transfer = [edges.buffer, ...(changedView ? [changedView.buffer] : []), ...Object.values(packed.codes).map((c) => c.buffer)];
    self.postMessage({ ...slimmed, at, ms: performance.now() - started, bytes: text.length }, transfer);
  } catch (err) {
    self.postMessage({ error: `Could not load the lineage (${err.message}).`, status: 0 });
  }
};

function slim(info) {
  const lineage = info.lineage ?? {};
  if (!lineage.nodes || !Array.isArray(lineage.edges)) {
    throw new Error("/api/info has no merged lineage (lineage.nodes and lineage.edges)");
  }
  const folderAt = folderIndex(Object.keys(lineage.nodes), lineage.folder_runs);
  const ids = Object.keys(lineage.nodes).sort();
  const index = new Map(ids.map((id, i) => [id, i]));
  const metadata = lineage.metadata ?? {};
  const project = metadata.current?.manifest_metadata?.project_name ?? metadata.base?.manifest_metadata?.project_name;
  const nodes = {};
  for (const id of ids) {
    const n = lineage.nodes[id];
    nodes[id] = {
      name: n.name,
      resource_type: n.resource_type,
      package_name: n.package_name ?? "",
      folder: folderOf(lineage.folders?.[folderAt.get(id)], n.package_name, project, n.resource_type),
      materialized: n.materialized ?? null,
      change_status: n.change_status ?? null,
      columns_changed: n.change?.columns ?? null,
      category: n.change?.category ?? null,
    };
  }
  // Edges flat, [source index, target index, ...]: transferred to the page, not copied.
  const pairs = [];
  const children = ids.map(() => []);
  for (const e of lineage.edges) {
    const s = index.get(e.source), t = index.get(e.target);
    if (s === undefined || t === undefined || s === t) continue;
    pairs.push(s, t);
    children[s].push(t);
  }
  const edges = Int32Array.from(pairs);
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
    lineage: { ids, packed: pack(ids, nodes), edges, metadata, impact, changedView: changedView(ids, nodes, edges, children, project) },
  };
}

// The node fields sent as columns: the page rebuilds the node objects (lineage-data.js), which
// costs it less than receiving thousands of objects (a message's objects are rebuilt one
// property at a time on the page's thread), and repeated strings are sent once.
const CODED = ["resource_type", "package_name", "folder", "materialized", "change_status", "category"];

function pack(ids, nodes) {
  const strings = [], seen = new Map();
  const intern = (value) => {
    if (value === null || value === undefined) return -1;
    let at = seen.get(value);
    if (at === undefined) seen.set(value, (at = strings.push(value) - 1));
    return at;
  };
  const codes = Object.fromEntries(CODED.map((field) => [field, new Int32Array(ids.length)]));
  const names = new Array(ids.length);
  const columns = {}; // columns_changed, for the nodes that have it
  ids.forEach((id, i) => {
    const node = nodes[id];
    names[i] = node.name;
    for (const field of CODED) codes[field][i] = intern(node[field]);
    if (node.columns_changed) columns[id] = node.columns_changed;
  });
  return { names, strings, codes, columns };
}

// /api/info's `folder_runs`: each node's index into `folders` (-1: no file), in the order
// the nodes are sent, run-length encoded as [index, count, index, count, ...].
function folderIndex(order, runs) {
  const at = new Map();
  let i = 0;
  for (let r = 0; r + 1 < (runs?.length ?? 0); r += 2) {
    for (let n = 0; n < runs[r + 1] && i < order.length; n++) at.set(order[i++], runs[r]);
  }
  return at;
}

/**
 * The folder a node is grouped in (groups.js): its file's folder, e.g. "models/marts/ops",
 * after the package's name for another package's nodes.
 */
function folderOf(dir, packageName, project, resourceType) {
  // /api/info's `folders` lists each folder once ("" = the top folder); -1 is no file.
  const folder = dir === undefined ? `(${resourceType}s without a file)` : dir || "(top folder)";
  return packageName && packageName !== project ? `${packageName} · ${folder}` : folder;
}

/**
 * The ids of Recce's "changed models" view as the lineage tells it: the root project's changed
 * nodes (the server's `state:modified`), their direct parents and all their descendants
 * (`1+state:modified+`; no package filter when the manifests name no project, as the server).
 * The page draws it while /api/select is on its way, then keeps it if the server's answer is
 * the same set, else shows the server's. As indexes into `ids`, so sorted as /api/select answers.
 */
function changedView(ids, nodes, edges, children, project) {
  const parents = ids.map(() => []);
  for (let e = 0; e < edges.length; e += 2) parents[edges[e + 1]].push(edges[e]);
  const inView = new Uint8Array(ids.length);
  const walked = new Uint8Array(ids.length); // descendants already followed from here
  const stack = [];
  ids.forEach((id, i) => {
    if (!nodes[id].change_status) return;
    inView[i] = walked[i] = 1;
    stack.push(i);
    for (const p of parents[i]) inView[p] = 1;
  });
  while (stack.length) {
    for (const c of children[stack.pop()]) {
      inView[c] = 1;
      if (!walked[c]) {
        walked[c] = 1;
        stack.push(c);
      }
    }
  }
  const view = [];
  ids.forEach((id, i) => inView[i] && (!project || nodes[id].package_name === project) && view.push(i));
  return Int32Array.from(view);
}
