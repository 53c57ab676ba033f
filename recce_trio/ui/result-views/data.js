// Result views for the warehouse run types: query, query_base, query_diff, row_count(_diff),
// profile(_diff), value_diff and value_diff_detail. Registered on the results.js extension point.

import { h } from "../dom.js";
import { registerResultView } from "../results.js";
import { alignFrames, alignJoined, cell, columnNames, diffTable, frameTable, sameValue } from "./frame.js";

const asList = (v) => (v === null || v === undefined || v === "" ? [] : Array.isArray(v) ? v : [v]);

registerResultView("query", (run) => frameTable(run.result));
registerResultView("query_base", (run) => frameTable(run.result, { caption: "Base" }));

/** query_diff: the joined shape (keys given to the run) or base and current compared here. */
function queryDiffView(run, ctx) {
  const result = run.result ?? {};
  if (result.diff) {
    const aligned = alignJoined(result.diff, asList(run.params?.primary_keys));
    return h("div", { class: "query-diff joined" },
      h("p", { class: "muted small" }, `Compared in the warehouse by ${aligned.keys.join(", ") || "the key"}; only differing rows are returned.`),
      diffTable(aligned, { keys: aligned.keys }),
      result.diff.data?.length >= 2000 ? h("p", { class: "muted small" }, "The first 2,000 differing rows are shown.") : null);
  }
  const names = [...new Set([...columnNames(result.base), ...columnNames(result.current)])];
  let keys = asList(ctx?.viewOptions?.primary_keys ?? run.params?.primary_keys).filter((k) => names.includes(k));
  let changedOnly = false;
  let mode = "diff";
  const body = h("div", { class: "query-diff-body" });
  const draw = () => {
    if (mode === "sides") {
      body.replaceChildren(h("div", { class: "sides" }, frameTable(result.base, { caption: "Base" }), frameTable(result.current, { caption: "Current" })));
      return;
    }
    const aligned = alignFrames(result.base, result.current, keys);
    body.replaceChildren(
      aligned.duplicates ? h("p", { class: "warn small duplicate-keys" }, `${aligned.duplicates} duplicate key${aligned.duplicates === 1 ? "" : "s"}: the key does not identify rows; later duplicates are left out.`) : null,
      diffTable(aligned, { keys, changedOnly }),
      h("p", { class: "muted small frame-foot" },
        `Base ${result.base?.data?.length ?? 0} rows${typeof result.base?.total_row_count === "number" ? ` of ${result.base.total_row_count}` : ""}${result.base?.more ? " (more)" : ""}; `,
        `current ${result.current?.data?.length ?? 0} rows${typeof result.current?.total_row_count === "number" ? ` of ${result.current.total_row_count}` : ""}${result.current?.more ? " (more)" : ""}.`));
  };
  const keyBoxes = names.map((name) => h("label", { class: "key-choice" },
    h("input", { type: "checkbox", value: name, checked: keys.includes(name),
      onchange: (e) => { keys = e.target.checked ? [...keys, name] : keys.filter((k) => k !== name); draw(); } }), name));
  const tools = h("div", { class: "row result-tools" },
    h("span", { class: "muted small" }, "Align by key:"), keyBoxes,
    keyBoxes.length ? null : h("span", { class: "muted small" }, "no columns"),
    h("label", { class: "small" }, h("input", { type: "checkbox", class: "changed-only", onchange: (e) => { changedOnly = e.target.checked; draw(); } }), "Changed rows only"),
    h("select", { class: "small diff-mode", "aria-label": "Show", onchange: (e) => { mode = e.target.value; draw(); } },
      h("option", { value: "diff" }, "Diff"), h("option", { value: "sides" }, "Base and current")));
  draw();
  return h("div", { class: "query-diff separate" },
    h("p", { class: "muted small" }, keys.length ? "" : "Rows aligned by position; tick key columns to align by key."), tools, body);
}
registerResultView("query_diff", queryDiffView);

// ---- row counts ----

function countCell(value, meta) {
  if (value === null || value === undefined) {
    return h("td", { class: "null", title: meta?.message ?? "" }, meta?.status && meta.status !== "ok" ? meta.status.replaceAll("_", " ") : "NULL");
  }
  return h("td", { class: "num" }, String(value));
}

registerResultView("row_count_diff", (run, ctx) => {
  const entries = Object.entries(run.result ?? {});
  if (!entries.length) return h("p", { class: "muted" }, "No models in this selection.");
  return h("div", { class: "table-scroll" }, h("table", { class: "data-table row-counts" },
    h("thead", {}, h("tr", {}, h("th", {}, "Model"), h("th", {}, "Base"), h("th", {}, "Current"), h("th", {}, "Change"))),
    h("tbody", {}, entries.map(([name, r]) => {
      const { base, curr } = r ?? {};
      let change = "", status = "unchanged";
      if (typeof base === "number" && typeof curr === "number") {
        const d = curr - base;
        status = d === 0 ? "unchanged" : "modified";
        change = d === 0 ? "=" : `${d > 0 ? "+" : ""}${d}${base ? ` (${d > 0 ? "+" : ""}${((d / base) * 100).toFixed(1)}%)` : ""}`;
      } else if (base === null && typeof curr === "number") { status = "added"; change = "added"; }
      else if (curr === null && typeof base === "number") { status = "removed"; change = "removed"; }
      else status = "unknown";
      const id = ctx?.nodeId?.(name);
      return h("tr", { dataset: { model: name, status } },
        h("td", {}, id ? h("a", { href: "#", onclick: (e) => { e.preventDefault(); ctx.openNode(id); } }, name) : name),
        countCell(base, r?.base_meta), countCell(curr, r?.curr_meta),
        h("td", { class: `change ${status}` }, change));
    }))));
});

registerResultView("row_count", (run) => h("table", { class: "data-table row-counts" },
  h("thead", {}, h("tr", {}, h("th", {}, "Model"), h("th", {}, "Rows"))),
  h("tbody", {}, Object.entries(run.result ?? {}).map(([name, r]) => h("tr", { dataset: { model: name } }, h("td", {}, name), countCell(r?.curr, r?.curr_meta))))));

// ---- profiles ----

const PROFILE_METRICS = ["data_type", "row_count", "not_null_proportion", "distinct_proportion", "distinct_count", "is_unique", "min", "max", "avg", "median"];

function profileRows(df) {
  const names = columnNames(df);
  const types = Object.fromEntries((df?.columns ?? []).map((c, i) => [names[i], c.type]));
  const rows = new Map();
  for (const raw of df?.data ?? []) {
    const row = Object.fromEntries(names.map((n, i) => [n, raw[i]]));
    rows.set(row.column_name, row);
  }
  return { rows, types };
}

function profileView(run) {
  const base = run.result?.base ? profileRows(run.result.base) : null;
  const current = profileRows(run.result?.current);
  const columns = [...new Set([...(base ? base.rows.keys() : []), ...current.rows.keys()])];
  const metrics = PROFILE_METRICS.filter((m) => m in current.types || (base && m in base.types));
  return h("div", { class: "table-scroll" }, h("table", { class: "data-table profile" },
    h("thead", {},
      h("tr", {}, h("th", { rowspan: base ? 2 : 1 }, "Column"), metrics.map((m) => h("th", { colspan: base ? 2 : 1 }, m.replaceAll("_", " ")))),
      base ? h("tr", {}, metrics.map(() => [h("th", { class: "side" }, "base"), h("th", { class: "side" }, "current")])) : null),
    h("tbody", {}, columns.map((col) => {
      const b = base?.rows.get(col), c = current.rows.get(col);
      return h("tr", { dataset: { column: col } }, h("th", {}, col), metrics.map((m) => {
        if (!base) return cell(c?.[m], { dataset: { metric: m } });
        const differs = !sameValue(b?.[m] ?? null, c?.[m] ?? null, current.types[m]);
        const attrs = (side) => ({ class: differs ? "cell-changed" : "", dataset: { metric: m, side } });
        return [b ? cell(b[m], attrs("base")) : h("td", { class: "missing", dataset: { metric: m, side: "base" } }, "—"),
          c ? cell(c[m], attrs("current")) : h("td", { class: "missing", dataset: { metric: m, side: "current" } }, "—")];
      }));
    }))));
}
registerResultView("profile", profileView);
registerResultView("profile_diff", profileView);

// ---- value diff ----

registerResultView("value_diff", (run) => {
  const summary = run.result?.summary ?? {};
  const df = run.result?.data;
  const names = columnNames(df);
  const at = (n) => names.indexOf(n);
  return h("div", { class: "value-diff" },
    h("p", { class: "small value-summary" },
      `${summary.total ?? "?"} rows in total`,
      h("span", { class: "badge added" }, `${summary.added ?? 0} added`),
      h("span", { class: "badge removed" }, `${summary.removed ?? 0} removed`)),
    h("table", { class: "data-table value-diff-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "Column"), h("th", {}, "Matched"), h("th", {}, "Matched %"))),
      h("tbody", {}, (df?.data ?? []).map((row) => {
        const p = row[at("matched_p")];
        const pct = p === null || p === undefined ? null : Number(p) * 100;
        return h("tr", { dataset: { column: row[at("column")], full: pct === 100 ? "yes" : "no" } },
          h("td", {}, row[at("column")]), cell(row[at("matched")], { class: "num" }),
          h("td", { class: `pct${pct !== null && pct < 100 ? " cell-changed" : ""}`, title: p === null || p === undefined ? "" : String(p) },
            pct === null ? "N/A" : `${pct === 100 ? "100" : pct.toFixed(2)} %`,
            pct === null ? null : h("span", { class: "bar" }, h("span", { style: `width:${Math.max(0, Math.min(100, pct))}%` }))));
      }))));
});

registerResultView("value_diff_detail", (run) => {
  const keys = asList(run.params?.primary_key);
  const aligned = alignJoined(run.result, keys);
  return h("div", { class: "value-diff-detail" },
    diffTable(aligned, { keys: aligned.keys }),
    (run.result?.data?.length ?? 0) >= 1000 ? h("p", { class: "muted small" }, "Recce returns at most 1,000 rows here; there may be more.") : null);
});
