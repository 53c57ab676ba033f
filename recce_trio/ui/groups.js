// The lineage grouped by folder: each folder of the shown nodes becomes one node ("a group")
// standing for all of them, with their change counts, and the edges between folders stand for
// the edges between their nodes. Expanded folders show their nodes again, among the groups.
// Pure functions: the page lays out what they return like any other graph (layout-worker.js).

const STATUS_ORDER = ["modified", "added", "removed"];
export const GROUP_PREFIX = "folder:";

export const isGroup = (id) => typeof id === "string" && id.startsWith(GROUP_PREFIX);
export const groupId = (folder) => `${GROUP_PREFIX}${folder}`;
export const folderOfGroup = (id) => id.slice(GROUP_PREFIX.length);

/** What a group says after its folder: "261 nodes · 12 modified · 1 added". */
export function groupTag(count, counts) {
  const bits = [`${count.toLocaleString()} node${count === 1 ? "" : "s"}`];
  for (const status of STATUS_ORDER) if (counts[status]) bits.push(`${counts[status]} ${status}`);
  return bits.join(" · ");
}

/**
 * Group `ids` (edges: index pairs into `ids`) by `lineage.nodes[id].folder`, but for the
 * folders in `expanded`. Returns {ids, edges, groups}: the graph to draw (group ids and the
 * ids of expanded folders' nodes), and per group id {folder, count, counts, status, members}
 * with `status` the change most of its changed nodes have, "unchanged" if none changed.
 */
export function groupByFolder(lineage, ids, edges, expanded = new Set()) {
  const out = [];
  const groups = new Map();
  const at = new Int32Array(ids.length); // each shown node's index in `out`
  const slot = new Map(); // out id -> index in out
  ids.forEach((id, i) => {
    const node = lineage.nodes[id];
    const folder = node.folder ?? "";
    if (expanded.has(folder)) {
      slot.set(id, out.length);
      at[i] = out.length;
      out.push(id);
      return;
    }
    const gid = groupId(folder);
    let group = groups.get(gid);
    if (!group) {
      group = { folder, count: 0, counts: {}, members: [] };
      groups.set(gid, group);
      slot.set(gid, out.length);
      out.push(gid);
    }
    group.count++;
    group.members.push(id);
    if (node.change_status) group.counts[node.change_status] = (group.counts[node.change_status] ?? 0) + 1;
    at[i] = slot.get(gid);
  });
  for (const group of groups.values()) {
    let status = "unchanged", most = 0;
    for (const s of STATUS_ORDER) if ((group.counts[s] ?? 0) > most) [status, most] = [s, group.counts[s]];
    group.status = status;
  }
  // Columns: a folder's graph may have cycles (a folder both above and below another), so its
  // column is the median of its nodes' columns in the node graph (longest path from a root).
  const nodeRanks = longestPathRanks(ids.length, edges);
  const memberRanks = out.map(() => []);
  ids.forEach((id, i) => memberRanks[at[i]].push(nodeRanks[i]));
  const median = Int32Array.from(memberRanks, (r) => r.sort((a, b) => a - b)[Math.floor((r.length - 1) / 2)]);
  // Columns no item sits in are dropped, so that the folders stand side by side.
  const used = [...new Set(median)].sort((a, b) => a - b);
  const dense = new Map(used.map((r, i) => [r, i]));
  const ranks = Int32Array.from(median, (r) => dense.get(r));
  // One edge per pair of drawn nodes; none within a group.
  const seen = new Set();
  const grouped = [];
  for (const [s, t] of edges) {
    const a = at[s], b = at[t];
    if (a === b) continue;
    const key = a * out.length + b;
    if (seen.has(key)) continue;
    seen.add(key);
    grouped.push([a, b]);
  }
  return { ids: out, edges: grouped, groups, ranks };
}

/** Each node's column: the longest path to it from a node without parents. */
export function longestPathRanks(n, edges) {
  const children = Array.from({ length: n }, () => []);
  const indegree = new Int32Array(n);
  for (const [s, t] of edges) {
    children[s].push(t);
    indegree[t]++;
  }
  const rank = new Int32Array(n);
  const queue = [];
  for (let i = 0; i < n; i++) if (!indegree[i]) queue.push(i);
  for (let head = 0; head < queue.length; head++) {
    const i = queue[head];
    for (const c of children[i]) {
      if (rank[c] < rank[i] + 1) rank[c] = rank[i] + 1;
      if (--indegree[c] === 0) queue.push(c);
    }
  }
  return rank;
}
