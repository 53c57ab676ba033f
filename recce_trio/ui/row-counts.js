// Row counts beside the nodes in the lineage: the latest row_count(_diff) result per node,
// from POST /api/runs/aggregate (as Recce's page asks), drawn after the node's type. Fetched
// at start and again whenever the list of runs changes.

import { runsApi } from "./api.js";

/** "500 → 393 rows", "14 rows", or null when there is no count. */
export function rowCountNote(entry) {
  const diff = entry?.row_count_diff?.result;
  if (diff) {
    const { base, curr } = diff;
    if (base === null && curr === null) return null;
    if (base === curr) return `${curr} rows`;
    return `${base ?? "—"} → ${curr ?? "—"} rows`;
  }
  const count = entry?.row_count?.result?.curr;
  return count === null || count === undefined ? null : `${count} rows`;
}

export function watchRowCounts(store, graph) {
  let asked = 0;
  const load = async () => {
    const seq = ++asked;
    let aggregate;
    try {
      aggregate = await runsApi.aggregate();
    } catch {
      return; // the counts are a hint; the lineage works without them
    }
    if (seq !== asked) return;
    const notes = new Map();
    for (const [id, entry] of Object.entries(aggregate ?? {})) {
      const note = rowCountNote(entry);
      if (note) notes.set(id, note);
    }
    graph().setNotes(notes);
  };
  // Ask again only when a run was added or changed status, not on every poll of the list.
  let seen = null;
  store.subscribe(["runs"], (state) => {
    const signature = state.runs.map((r) => `${r.run_id}:${r.status}`).join(",");
    if (signature === seen) return;
    seen = signature;
    load();
  });
  load();
}
