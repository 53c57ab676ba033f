// The schema diff as the page shows it. The page computes no column diff of its own: which
// columns were added, removed or retyped comes from the server (the merged lineage's
// `change.columns`, or a schema_diff run's result); this module only orders and words it.

import { h } from "./dom.js";

const WORDS = { added: "added", removed: "removed", modified: "type changed" };
const MARKS = { added: "+", removed: "−", modified: "~" };

/**
 * Rows in current column order, each removed column placed after the column that preceded it
 * in base. `base`/`current`: [[name, type], ...] in catalog order, or null when that side's
 * catalog has no entry. `statuses`: {name: "added"|"removed"|"modified"} from the server.
 */
export function schemaRows(base, current, statuses) {
  const baseTypes = new Map(base ?? []);
  const currTypes = new Map(current ?? []);
  const names = (current ?? []).map(([name]) => name);
  (base ?? []).forEach(([name], i) => {
    if (currTypes.has(name)) return;
    const before = i > 0 ? names.indexOf(base[i - 1][0]) : -1;
    names.splice(before + 1, 0, name);
  });
  return names.map((name) => ({
    name,
    baseType: baseTypes.get(name) ?? null,
    currentType: currTypes.get(name) ?? null,
    status: statuses?.[name] ?? null,
  }));
}

/** Per-column statuses of a node as the server reported them, by the node's change status. */
export function nodeStatuses(changeStatus, columnsChanged, base, current) {
  if (changeStatus === "added") return Object.fromEntries((current ?? []).map(([n]) => [n, "added"]));
  if (changeStatus === "removed") return Object.fromEntries((base ?? []).map(([n]) => [n, "removed"]));
  return columnsChanged ?? null;
}

/** Statuses from a schema_diff run's per-node result ({added, removed, changed}). */
export function resultStatuses(entry) {
  const out = {};
  for (const name of entry.added ?? []) out[name] = "added";
  for (const name of entry.removed ?? []) out[name] = "removed";
  for (const name of Object.keys(entry.changed ?? {})) out[name] = "modified";
  return out;
}

/** The table, with a one-line summary; `changeStatus` words added and removed nodes. */
export function schemaTable({ id, base, current, statuses, changeStatus, inBase, inCurrent }) {
  const wrap = h("div", { class: "schema-diff", dataset: { nodeId: id } });
  if (base === null && current === null) {
    wrap.append(
      h("p", { class: "muted" }, "No catalog columns for this node on either side. Run ",
        h("code", {}, "dbt docs generate"), " for both environments to see its schema."),
    );
    return wrap;
  }
  const compared = !(inBase && inCurrent && (base === null || current === null));
  if (!compared) {
    const side = base === null ? "base" : "current";
    wrap.append(h("p", { class: "warn" }, `The ${side} catalog has no columns for this node, so the columns are not compared.`));
  }
  const rows = schemaRows(base, current, statuses);
  const changed = rows.filter((r) => r.status).length;
  let summary;
  if (changeStatus === "added") summary = `${rows.length} columns, all new (the model is added)`;
  else if (changeStatus === "removed") summary = `${rows.length} columns, all removed (the model is removed)`;
  else if (changed) summary = `${changed} of ${rows.length} columns changed`;
  else summary = compared ? `${rows.length} columns, no schema change` : `${rows.length} columns`;
  wrap.append(h("p", { class: "schema-summary" }, summary));
  wrap.append(
    h("table", { class: "schema" },
      h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, "column"), h("th", {}, "base type"), h("th", {}, "current type"))),
      h("tbody", {}, rows.map((r) =>
        h("tr", { class: r.status ? `col-${r.status}` : "", dataset: { column: r.name, status: r.status ?? "unchanged" } },
          h("td", { class: "mark", title: r.status ? WORDS[r.status] : "" }, MARKS[r.status] ?? ""),
          h("td", { class: "colname" }, r.name),
          h("td", {}, r.baseType ?? "—"),
          h("td", {}, r.currentType ?? "—"),
        ))),
    ),
  );
  return wrap;
}

/** "2 added, 1 type changed" from a statuses map, or "". */
export function statusCounts(statuses) {
  const counts = { added: 0, removed: 0, modified: 0 };
  for (const s of Object.values(statuses ?? {})) counts[s] = (counts[s] ?? 0) + 1;
  return Object.entries(counts).filter(([, n]) => n).map(([s, n]) => `${n} ${WORDS[s]}`).join(", ");
}
