// Chains of unchanged nodes drawn as one node each ("3 unchanged"), so that a long pipeline
// nobody touched (source -> staging -> base -> ...) takes one card, not a row of them. A chain
// is a path of two or more unchanged nodes in which each node is its successor's only parent
// and has it as its only child: folding it hides no branch. Its first node may have any
// parents and its last any children. Expanded chains show their nodes again.
// Pure functions: the page lays out what they return like any other graph (layout-worker.js).

export const CHAIN_PREFIX = "chain:";

export const isChain = (id) => typeof id === "string" && id.startsWith(CHAIN_PREFIX);
/** A chain is named after its first node, so it keeps its id while the view changes around it. */
export const chainId = (first) => `${CHAIN_PREFIX}${first}`;

/** What a chain's card says under its label: "stg_a → base_a → … → int_a". */
export function chainTag(names) {
  return names.length > 3 ? `${names[0]} → ${names[1]} → … → ${names.at(-1)}` : names.join(" → ");
}

/**
 * Fold the chains of `ids` (edges: index pairs into `ids`), but for the chain ids in
 * `expanded`. Returns {ids, edges, chains, chainOf}: the graph to draw (chain ids in place of
 * their nodes), per chain id {members (in order), names}, and node id -> chain id for every
 * folded node.
 */
export function collapseChains(lineage, ids, edges, expanded = new Set()) {
  const n = ids.length;
  const outDegree = new Int32Array(n), inDegree = new Int32Array(n), child = new Int32Array(n);
  for (const [s, t] of edges) {
    outDegree[s]++;
    inDegree[t]++;
    child[s] = t;
  }
  const unchanged = (i) => !lineage.nodes[ids[i]].change_status;
  const next = new Int32Array(n).fill(-1); // the node a chain goes on to from here
  const continued = new Uint8Array(n); // a chain comes into this node
  for (let i = 0; i < n; i++) {
    if (outDegree[i] !== 1 || !unchanged(i)) continue;
    const c = child[i];
    if (c !== i && inDegree[c] === 1 && unchanged(c)) {
      next[i] = c;
      continued[c] = 1;
    }
  }
  const out = [];
  const at = new Int32Array(n).fill(-1); // each node's index in `out`
  const chains = new Map();
  const chainOf = new Map();
  for (let i = 0; i < n; i++) {
    if (at[i] >= 0) continue;
    if (continued[i] || next[i] < 0) {
      if (!continued[i]) at[i] = out.push(ids[i]) - 1; // in no chain
      continue; // in a chain: placed from its first node
    }
    const members = [];
    for (let j = i; j >= 0 && at[j] === -1; j = next[j]) {
      members.push(j);
      at[j] = -2; // taken
    }
    const id = chainId(ids[i]);
    if (expanded.has(id)) {
      for (const j of members) at[j] = out.push(ids[j]) - 1;
      continue;
    }
    const slot = out.push(id) - 1;
    const memberIds = members.map((j) => ids[j]);
    for (const j of members) {
      at[j] = slot;
      chainOf.set(ids[j], id);
    }
    chains.set(id, { members: memberIds, names: memberIds.map((m) => lineage.nodes[m].name) });
  }
  // Nodes left (on a cycle of chain links, which a dbt project cannot have): drawn as they are.
  for (let i = 0; i < n; i++) if (at[i] === -1) at[i] = out.push(ids[i]) - 1;
  const seen = new Set();
  const folded = [];
  for (const [s, t] of edges) {
    const a = at[s], b = at[t];
    if (a === b || seen.has(a * out.length + b)) continue;
    seen.add(a * out.length + b);
    folded.push([a, b]);
  }
  return { ids: out, edges: folded, chains, chainOf };
}
