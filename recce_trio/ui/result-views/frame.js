// Recce's DataFrame ({columns:[{key,name,type}], data:[[...]], limit, more, total_row_count})
// as tables: one frame, or a base/current comparison aligned by index, by key, or from the
// joined in_a/in_b shape. Values are shown as Recce sends them (numbers may be JSON strings);
// SQL NULL shows as NULL. All text goes in as text nodes.

import { h } from "../dom.js";

export const columnNames = (df) => (df?.columns ?? []).map((c) => c.name ?? c.key);

/** A cell: NULL for null, true/false for booleans, anything else as sent. */
export function cell(value, attrs = {}) {
  if (value === null || value === undefined) return h("td", { ...attrs, class: `${attrs.class ?? ""} null`.trim() }, "NULL");
  if (typeof value === "object") return h("td", attrs, JSON.stringify(value));
  return h("td", attrs, String(value));
}

const numeric = (v) => (typeof v === "number" || (typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v))));

/** Are two values the same? Numbers by value ("10.00" = "10.0"); `float` columns within a relative epsilon. */
export function sameValue(a, b, type) {
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  if (a === b) return true;
  if (["integer", "number", "float"].includes(type) && numeric(a) && numeric(b)) {
    const x = Number(a), y = Number(b);
    if (type === "float") return Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x), Math.abs(y));
    const exact = (v) => {
      let s = String(v);
      if (!/^-?\d+(\.\d+)?$/.test(s)) return null;
      if (s.includes(".")) s = s.replace(/0+$/, "").replace(/\.$/, "");
      return s === "-0" ? "0" : s;
    };
    const ea = exact(a), eb = exact(b);
    return ea !== null && eb !== null ? ea === eb : x === y;
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

function frameFooter(df) {
  const shown = df?.data?.length ?? 0;
  const total = df?.total_row_count;
  const bits = [`${shown} row${shown === 1 ? "" : "s"}`];
  if (typeof total === "number") bits.push(`of ${total} in total`);
  if (df?.more) bits.push(`(more rows: only the first ${df.limit ?? shown} are shown)`);
  return h("p", { class: "muted small frame-foot" }, bits.join(" "));
}

/** One DataFrame as a table. */
export function frameTable(df, { caption } = {}) {
  const names = columnNames(df);
  if (!df) return h("p", { class: "muted" }, "No result.");
  return h("div", { class: "frame" },
    caption ? h("h4", {}, caption) : null,
    h("div", { class: "table-scroll" },
      h("table", { class: "data-table" },
        h("thead", {}, h("tr", {}, names.map((n, i) => h("th", { title: df.columns[i].type ?? "" }, n)))),
        h("tbody", {}, (df.data ?? []).map((row) => h("tr", {}, row.map((v, i) => cell(v, { dataset: { column: names[i] } }))))),
      )),
    frameFooter(df),
  );
}

/**
 * Pair base and current rows. `keys` (column names) align by key value; none aligns by
 * position. Returns {columns:[{name,type}], pairs:[{status, key, base, current}], duplicates}
 * where base/current are objects by column name.
 */
export function alignFrames(base, current, keys = []) {
  const columns = [];
  const seen = new Set();
  for (const df of [base, current]) {
    (df?.columns ?? []).forEach((c) => {
      const name = c.name ?? c.key;
      if (!seen.has(name)) { seen.add(name); columns.push({ name, type: c.type }); }
    });
  }
  const rows = (df) => (df?.data ?? []).map((r) => Object.fromEntries(columnNames(df).map((n, i) => [n, r[i]])));
  const b = rows(base), c = rows(current);
  const pairs = [];
  let duplicates = 0;
  if (!keys.length) {
    for (let i = 0; i < Math.max(b.length, c.length); i++) pairs.push({ key: String(i + 1), base: b[i] ?? null, current: c[i] ?? null });
  } else {
    const keyOf = (row) => JSON.stringify(keys.map((k) => row[k] ?? null));
    const byKey = new Map();
    for (const [side, list] of [["base", b], ["current", c]]) {
      for (const row of list) {
        const k = keyOf(row);
        const entry = byKey.get(k) ?? { key: keys.map((name) => row[name] ?? "NULL").join(", "), base: null, current: null };
        if (entry[side]) { duplicates++; entry.duplicate = true; continue; }
        entry[side] = row;
        byKey.set(k, entry);
      }
    }
    pairs.push(...byKey.values());
  }
  for (const p of pairs) p.status = pairStatus(p, columns);
  return { columns, pairs, duplicates };
}

function pairStatus(p, columns) {
  if (!p.base) return "added";
  if (!p.current) return "removed";
  return columns.some((c) => !sameValue(p.base[c.name], p.current[c.name], c.type)) ? "modified" : "unchanged";
}

/** The joined shape: rows with in_a/in_b; a key on both sides is a changed row. */
export function alignJoined(df, keys) {
  const names = columnNames(df);
  const lower = names.map((n) => n.toLowerCase());
  const ia = lower.indexOf("in_a"), ib = lower.indexOf("in_b");
  const columns = (df?.columns ?? []).map((c, i) => ({ name: names[i], type: c.type })).filter((_, i) => i !== ia && i !== ib);
  const keyNames = keys.map((k) => names.find((n) => n.toLowerCase() === String(k).toLowerCase()) ?? k);
  const byKey = new Map();
  for (const raw of df?.data ?? []) {
    const row = Object.fromEntries(names.map((n, i) => [n, raw[i]]));
    const k = JSON.stringify(keyNames.map((n) => row[n] ?? null));
    const entry = byKey.get(k) ?? { key: keyNames.map((n) => row[n] ?? "NULL").join(", "), base: null, current: null };
    const inA = raw[ia] === true || raw[ia] === "true", inB = raw[ib] === true || raw[ib] === "true";
    if (inA && !inB) entry.base = row;
    else if (inB && !inA) entry.current = row;
    byKey.set(k, entry);
  }
  const pairs = [...byKey.values()];
  for (const p of pairs) p.status = pairStatus(p, columns);
  return { columns, pairs, duplicates: 0, keys: keyNames };
}

/** The aligned comparison as one table: a status per row, changed cells show base → current. */
export function diffTable({ columns, pairs }, { keys = [], changedOnly = false } = {}) {
  const shown = changedOnly ? pairs.filter((p) => p.status !== "unchanged") : pairs;
  const counts = { added: 0, removed: 0, modified: 0, unchanged: 0 };
  for (const p of pairs) counts[p.status]++;
  const ordered = [...columns.filter((c) => keys.includes(c.name)), ...columns.filter((c) => !keys.includes(c.name))];
  return h("div", { class: "frame diff" },
    h("p", { class: "small diff-counts" },
      ["added", "removed", "modified"].map((s) => h("span", { class: `badge ${s}`, dataset: { count: s } }, `${counts[s]} ${s}`)),
      h("span", { class: "muted" }, ` ${counts.unchanged} unchanged`)),
    h("div", { class: "table-scroll" },
      h("table", { class: "data-table diff-table" },
        h("thead", {}, h("tr", {}, h("th", {}, keys.length ? "" : "#"), ordered.map((c) => h("th", { class: keys.includes(c.name) ? "key" : null, title: c.type ?? "" }, c.name)))),
        h("tbody", {}, shown.map((p) => h("tr", { class: `row-${p.status}`, dataset: { status: p.status, key: p.key } },
          h("td", { class: "row-mark", title: p.status }, p.status === "added" ? "+" : p.status === "removed" ? "−" : p.status === "modified" ? "~" : keys.length ? "" : p.key),
          ordered.map((c) => {
            const row = p.current ?? p.base;
            if (p.status !== "modified" || sameValue(p.base[c.name], p.current[c.name], c.type)) return cell(row[c.name], { dataset: { column: c.name } });
            return h("td", { class: "cell-changed", dataset: { column: c.name } },
              h("span", { class: "before" }, p.base[c.name] === null || p.base[c.name] === undefined ? "NULL" : String(p.base[c.name])),
              h("span", { class: "arrow" }, " → "),
              h("span", { class: "after" }, p.current[c.name] === null || p.current[c.name] === undefined ? "NULL" : String(p.current[c.name])));
          })))),
      )),
    shown.length === 0 ? h("p", { class: "muted no-diff" }, "No differences.") : null,
  );
}
