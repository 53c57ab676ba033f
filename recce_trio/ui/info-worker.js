// Fetches and parses /api/info off the main thread (it is megabytes on a big project) and
// returns only what the page draws: the page's form of the merged lineage
// (`/api/info?lineage=page`: `lineage.nodes`, `edges` as index pairs, `metadata`, folders) in
// compact form, plus each changed node's downstream impact (descendants).
// Node details (columns, code) are fetched per node from /api/models/{id}. It also lays out
// the first view of a big project (layered.js), so the page can draw it as soon as it arrives.

/* global importScripts, layered, LAYERED_ABOVE */
importScripts("/layered.js");

// Times are sent as epoch milliseconds (a worker's performance.now() has its own origin).
const now = () => performance.timeOrigin + performance.now();

/** `size`: {width, height} of a drawn node, for laying out the first view. */
self.onmessage = async ({ data: size }) => {
  const started = performance.now();
  const at = { asked: now() };
  try {
    const response = await fetch("/api/info?lineage=page");
    at.answered = now();
    if (response.ok) self.postMessage({ answered: true }); // the server is ready: the page shows the review meanwhile
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
    const slimmed = slim(info, size, at);
    at.slimmed = now();
    const { edges, first, packed } = slimmed.lineage;
    const transfer = [edges.buffer, ...Object.values(packed.codes).map((c) => c.buffer)];
    if (first) transfer.push(first.view.buffer, first.edges.buffer, ...(first.xy ? [first.xy.buffer] : []));
    self.postMessage({ ...slimmed, at, ms: performance.now() - started, bytes: text.length }, transfer);
  } catch (err) {
    self.postMessage({ error: `Could not load the lineage (${err.message}).`, status: 0 });
  }
};

// The node fields sent as columns of string codes (-1: none): the page rebuilds the node
// objects (lineage-data.js), which costs it less than receiving thousands of objects (a
// message's objects are rebuilt one property at a time on the page's thread), and repeated
// strings are sent once.
const CODED = ["resource_type", "package_name", "folder", "materialized", "change_status", "category"];

function slim(info, size, at) {
  const lineage = info.lineage ?? {};
  if (!lineage.nodes || !Array.isArray(lineage.edges)) {
    throw new Error("/api/info?lineage=page has no lineage (lineage.nodes and lineage.edges)");
  }
  const sent = Object.keys(lineage.nodes);
  const ids = sent.slice().sort();
  const n = ids.length;
  const index = new Map(ids.map((id, i) => [id, i]));
  const folderAt = folderIndex(sent, index, lineage.folder_runs);
  const metadata = lineage.metadata ?? {};
  const project = metadata.current?.manifest_metadata?.project_name ?? metadata.base?.manifest_metadata?.project_name;
  const folders = lineage.folders ?? [];
  const strings = [], seen = new Map();
  const intern = (value) => {
    if (value === null || value === undefined) return -1;
    let code = seen.get(value);
    if (code === undefined) seen.set(value, (code = strings.push(value) - 1));
    return code;
  };
  const codes = Object.fromEntries(CODED.map((field) => [field, new Int32Array(n)]));
  const names = new Array(n);
  const columns = {}; // columns_changed, for the nodes that have it
  const changed = [];
  const folderCode = new Map(); // "<folder index> <package>" (and the type if no file) -> code
  for (let i = 0; i < n; i++) {
    const node = lineage.nodes[ids[i]];
    const pkg = node.package_name ?? "";
    names[i] = node.name;
    codes.resource_type[i] = intern(node.resource_type);
    codes.package_name[i] = intern(pkg);
    const at = folderAt[i];
    const folderKey = `${at} ${pkg} ${at < 0 ? node.resource_type : ""}`;
    let folder = folderCode.get(folderKey);
    if (folder === undefined) folderCode.set(folderKey, (folder = intern(folderOf(folders[at], pkg, project, node.resource_type))));
    codes.folder[i] = folder;
    codes.materialized[i] = intern(node.materialized);
    codes.change_status[i] = intern(node.change_status);
    codes.category[i] = intern(node.change?.category);
    if (node.change?.columns) columns[ids[i]] = node.change.columns;
    if (node.change_status) changed.push(i);
  }
  // Edges flat, [source index, target index, ...]: transferred to the page, not copied. The
  // server sends them so too, as indexes into the nodes in the order it sent them.
  const pairs = [];
  const children = ids.map(() => []);
  const parents = ids.map(() => []);
  const sentEdges = lineage.edges;
  for (let e = 0; e + 1 < sentEdges.length; e += 2) {
    const s = index.get(sent[sentEdges[e]]), t = index.get(sent[sentEdges[e + 1]]);
    if (s === undefined || t === undefined || s === t) continue;
    pairs.push(s, t);
    children[s].push(t);
    parents[t].push(s);
  }
  const edges = Int32Array.from(pairs);
  at.indexed = now();
  const impact = {};
  const counts = descendantCounts(n, changed, children);
  changed.forEach((i, k) => (impact[ids[i]] = counts[k]));
  at.impact = now();
  const projectCode = project ? seen.get(project) ?? -2 : null;
  const first = firstView(n, changed, children, parents, edges, projectCode, codes.package_name, size);
  at.laidOut = now();
  const { lineage: _dropped, ...rest } = info;
  return { info: rest, lineage: { ids, packed: { names, strings, codes, columns }, edges, metadata, impact, first } };
}

// /api/info's `folder_runs`: each node's index into `folders` (-1: no file), in the order
// the nodes are sent, run-length encoded as [index, count, index, count, ...]. Returned by
// the node's index in the sorted ids.
function folderIndex(sent, index, runs) {
  const at = new Int32Array(sent.length).fill(-1); // by the node's index in the sorted ids
  let i = 0;
  for (let r = 0; r + 1 < (runs?.length ?? 0); r += 2) {
    for (let k = 0; k < runs[r + 1] && i < sent.length; k++) at[index.get(sent[i++])] = runs[r];
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
 * Downstream impact of each changed node: how many nodes depend on it, transitively. Each
 * node below a change gets a bit set of the changes above it, the union of its parents' (in
 * topological order); a change's impact is the number of other nodes carrying its bit. A few
 * milliseconds for thousands of nodes, where a walk from each changed node costs as many
 * steps as all their descendants together.
 */
function descendantCounts(n, changed, children) {
  // The nodes below a change, in topological order (Kahn's, among them).
  const below = new Uint8Array(n);
  const stack = [...changed];
  for (const i of changed) below[i] = 1;
  while (stack.length) {
    for (const c of children[stack.pop()]) {
      if (!below[c]) {
        below[c] = 1;
        stack.push(c);
      }
    }
  }
  const indegree = new Int32Array(n);
  const order = [];
  let size = 0;
  for (let i = 0; i < n; i++) {
    if (!below[i]) continue;
    size++;
    for (const c of children[i]) indegree[c]++;
  }
  for (let i = 0; i < n; i++) if (below[i] && !indegree[i]) order.push(i);
  for (let head = 0; head < order.length; head++) {
    for (const c of children[order[head]]) if (--indegree[c] === 0) order.push(c);
  }
  const words = Math.ceil(changed.length / 32);
  if (order.length < size || size * words > 4e6) return changed.map((i) => walkCount(i, children, n)); // a cycle, or too big for bit sets
  const slot = new Int32Array(n);
  order.forEach((i, k) => (slot[i] = k));
  const bits = new Uint32Array(size * words);
  changed.forEach((i, b) => (bits[slot[i] * words + (b >>> 5)] |= 1 << (b & 31)));
  for (const i of order) {
    const from = slot[i] * words;
    for (const c of children[i]) {
      const to = slot[c] * words;
      for (let w = 0; w < words; w++) bits[to + w] |= bits[from + w];
    }
  }
  const counts = new Int32Array(changed.length).fill(-1); // a change carries its own bit
  for (let w = 0; w < bits.length; w++) {
    let x = bits[w];
    const base = (w % words) * 32;
    while (x) {
      const low = x & -x;
      counts[base + 31 - Math.clz32(low)]++;
      x ^= low;
    }
  }
  return Array.from(counts);
}

/** How many nodes are below `start`, by walking them. */
function walkCount(start, children, n) {
  const seen = new Uint8Array(n);
  const stack = [start];
  seen[start] = 1;
  let count = 0;
  while (stack.length) {
    for (const c of children[stack.pop()]) {
      if (!seen[c]) {
        seen[c] = 1;
        count++;
        stack.push(c);
      }
    }
  }
  return count;
}

/**
 * Recce's "changed models" view as the lineage tells it: the root project's changed nodes (the
 * server's `state:modified`), their direct parents and all their descendants
 * (`1+state:modified+`; no package filter when the manifests name no project, as the server).
 * The page draws it while /api/select is on its way, then keeps it if the server's answer is
 * the same set, else shows the server's. Returns {view: indexes into `ids` (so sorted as
 * /api/select answers), edges: index pairs into `view`, xy: its layout when it is big enough
 * for the layered one (layered.js), else null}, or null when nothing changed.
 */
function firstView(n, changed, children, parents, edges, projectCode, packages, size) {
  if (!changed.length) return null;
  const inView = new Uint8Array(n);
  const walked = new Uint8Array(n); // descendants already followed from here
  const stack = [];
  for (const i of changed) {
    inView[i] = walked[i] = 1;
    stack.push(i);
    for (const p of parents[i]) inView[p] = 1;
  }
  while (stack.length) {
    for (const c of children[stack.pop()]) {
      inView[c] = 1;
      if (!walked[c]) {
        walked[c] = 1;
        stack.push(c);
      }
    }
  }
  const local = new Int32Array(n).fill(-1);
  const view = [];
  for (let i = 0; i < n; i++) {
    if (inView[i] && (projectCode === null || packages[i] === projectCode)) local[i] = view.push(i) - 1;
  }
  const among = [];
  for (let e = 0; e < edges.length; e += 2) {
    const a = local[edges[e]], b = local[edges[e + 1]];
    if (a >= 0 && b >= 0) among.push(a, b);
  }
  const localEdges = Int32Array.from(among);
  const xy = size && view.length > LAYERED_ABOVE ? layered(view.length, size.width, size.height, localEdges) : null;
  return { view: Int32Array.from(view), edges: localEdges, xy };
}
