// The Query view (side panel): an SQL editor with help for ref(), Run (query), Run diff
// (query_diff, with an optional primary key) and Run on base (query_base). Runs are submitted
// with nowait and followed with /wait?timeout=2, as Recce's page does; Cancel stops one.
// Keys: Ctrl/Cmd+Enter runs, Ctrl/Cmd+Shift+Enter runs the diff, Tab indents or takes the
// highlighted ref() suggestion, ↑/↓ move through the suggestions, Esc closes them.

import { runsApi } from "./api.js";
import { h } from "./dom.js";
import { renderRunResult } from "./results.js";

const REF_PREFIX = /\bref\(\s*(['"])([\w.-]*)$/;

/** Model names for ref(): models, seeds and snapshots of the lineage, sorted. */
export function refNames(lineage) {
  const names = new Set();
  for (const node of Object.values(lineage?.nodes ?? {})) {
    if (["model", "seed", "snapshot"].includes(node.resource_type) && node.change_status !== "removed") names.add(node.name);
  }
  return [...names].sort();
}

export function createQueryView({ store, actions, resultContext, toast, onEnd }) {
  let run = null; // the run shown (running or ended)
  let suggestions = [];
  let active = 0;

  const sql = h("textarea", { class: "query-sql", rows: 10, spellcheck: false, "aria-label": "SQL",
    placeholder: "select * from {{ ref('orders') }}" });
  const suggestBox = h("ul", { class: "ref-suggestions", role: "listbox", hidden: true });
  const keys = h("input", { class: "query-keys", list: "query-key-columns", "aria-label": "Primary key",
    placeholder: "primary key column(s) for Run diff, comma-separated (optional)" });
  const keyColumns = h("datalist", { id: "query-key-columns" });
  const models = h("select", { class: "ref-insert", "aria-label": "Insert ref()" });
  const status = h("div", { class: "query-status" });
  const result = h("div", { class: "query-result" });
  const buttons = {
    query: h("button", { type: "button", class: "run-query", title: "Ctrl+Enter", onclick: () => submit("query") }, "Run"),
    query_diff: h("button", { type: "button", class: "run-diff", title: "Ctrl+Shift+Enter", onclick: () => submit("query_diff") }, "Run diff"),
    query_base: h("button", { type: "button", class: "secondary run-base", onclick: () => submit("query_base") }, "Run on base"),
  };

  const element = h("div", { class: "query-panel" },
    h("div", { class: "panel-head" },
      h("h2", {}, "Query"),
      h("button", { class: "icon close", title: "Close (Esc)", onclick: () => actions.close() }, "×")),
    h("p", { class: "muted small" }, "Jinja SQL as in dbt: ", h("code", {}, "{{ ref('model') }}"), " reads the base or the current environment's relation."),
    h("div", { class: "editor" }, sql, suggestBox),
    h("div", { class: "row" }, models),
    h("label", { class: "small" }, "Primary key ", keys, keyColumns),
    h("div", { class: "row query-buttons" }, buttons.query, buttons.query_diff, buttons.query_base,
      h("span", { class: "muted small" }, "Ctrl+Enter runs, Ctrl+Shift+Enter runs the diff")),
    status, result);

  // ---- ref() help ----

  function fillModels() {
    const names = refNames(store.get().lineage);
    models.replaceChildren(h("option", { value: "" }, `Insert ref() for a model… (${names.length})`), ...names.map((n) => h("option", { value: n }, n)));
  }
  models.addEventListener("change", () => {
    if (!models.value) return;
    insert(`{{ ref('${models.value}') }}`);
    models.value = "";
    sql.focus();
  });

  function insert(text, replaceBefore = 0) {
    const start = sql.selectionStart - replaceBefore, end = sql.selectionEnd;
    sql.setRangeText(text, start, end, "end");
    sql.dispatchEvent(new Event("input"));
  }

  function updateSuggestions() {
    const before = sql.value.slice(0, sql.selectionStart);
    const match = REF_PREFIX.exec(before);
    suggestions = [];
    if (match && sql.selectionStart === sql.selectionEnd) {
      const typed = match[2].toLowerCase();
      const names = refNames(store.get().lineage);
      suggestions = [...names.filter((n) => n.toLowerCase().startsWith(typed)), ...names.filter((n) => !n.toLowerCase().startsWith(typed) && n.toLowerCase().includes(typed))].slice(0, 12);
      suggestions.quote = match[1];
      suggestions.typed = match[2].length;
    }
    active = 0;
    drawSuggestions();
  }

  function drawSuggestions() {
    suggestBox.hidden = !suggestions.length;
    suggestBox.replaceChildren(...suggestions.map((name, i) => h("li", {
      role: "option", class: i === active ? "active" : "", "aria-selected": i === active ? "true" : "false",
      onmousedown: (e) => { e.preventDefault(); accept(i); } }, name)));
  }

  function accept(i) {
    const name = suggestions[i];
    const { quote, typed } = suggestions;
    const after = sql.value.slice(sql.selectionStart);
    const closes = after.startsWith(quote);
    insert(closes ? name : `${name}${quote})`, typed);
    suggestions = [];
    drawSuggestions();
  }

  sql.addEventListener("input", updateSuggestions);
  sql.addEventListener("click", updateSuggestions);
  sql.addEventListener("blur", () => { suggestions = []; drawSuggestions(); });
  sql.addEventListener("keydown", (e) => {
    if (suggestions.length && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
      e.preventDefault();
      active = (active + (e.key === "ArrowDown" ? 1 : -1) + suggestions.length) % suggestions.length;
      drawSuggestions();
    } else if (suggestions.length && (e.key === "Tab" || e.key === "Enter") && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      accept(active);
    } else if (suggestions.length && e.key === "Escape") {
      e.stopPropagation();
      e.preventDefault();
      suggestions = [];
      drawSuggestions();
    } else if (e.key === "Tab" && !e.shiftKey) {
      e.preventDefault();
      insert("  ");
    } else if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      submit(e.shiftKey ? "query_diff" : "query");
    }
  });

  // ---- running ----

  const running = () => run?.status === "Running";

  function draw() {
    for (const b of Object.values(buttons)) b.disabled = running();
    status.replaceChildren();
    result.replaceChildren();
    if (!run) return;
    if (running()) {
      const p = run.progress ?? {};
      const pct = typeof p.percentage === "number" ? Math.round(p.percentage * (p.percentage <= 1 ? 100 : 1)) : null;
      status.append(h("div", { class: "run-progress", dataset: { runId: run.run_id } },
        h("progress", { max: 100, value: pct ?? undefined }),
        h("span", { class: "muted small" }, p.message ?? "Running…"),
        h("button", { type: "button", class: "small danger cancel", onclick: cancel }, "Cancel")));
      return;
    }
    status.append(h("p", { class: "muted small run-line", dataset: { runId: run.run_id, status: (run.status ?? "").toLowerCase() } },
      `${run.type} · ${run.status ?? ""} · `,
      h("a", { href: "#", onclick: (e) => { e.preventDefault(); actions.openRun(run.run_id); } }, "open in Runs")));
    result.append(renderRunResult(run, resultContext));
    if (!run.error && run.status === "Finished") {
      result.append(h("button", { type: "button", class: "small add-to-checklist", onclick: () => actions.addCheck({ type: run.type, params: run.params, run_id: run.run_id }) }, "Add to checklist"));
      // Every row, not only the 2,000 shown: the server runs the SQL again (a keyed diff cannot be).
      if (!run.params?.primary_keys?.length) result.append(h("a", { class: "small export-csv", href: `/api/runs/${run.run_id}/export?format=csv`, download: "" }, "Export CSV"));
    }
    const cols = run.result?.columns ?? run.result?.current?.columns ?? run.result?.base?.columns ?? run.result?.diff?.columns ?? [];
    keyColumns.replaceChildren(...cols.map((c) => h("option", { value: c.name ?? c.key })));
  }

  async function submit(type) {
    if (running()) return;
    const params = { sql_template: sql.value };
    const pk = keys.value.split(",").map((k) => k.trim()).filter(Boolean);
    if (type === "query_diff" && pk.length) params.primary_keys = pk;
    if (!sql.value.trim()) {
      run = { run_id: "", type, status: "Failed", error: "Write a query first." };
      draw();
      return;
    }
    try {
      run = await runsApi.submit(type, params);
    } catch (err) {
      run = { run_id: "", type, status: "Failed", error: err.message };
      draw();
      return;
    }
    draw();
    while (run.status === "Running") {
      const id = run.run_id;
      let next;
      try {
        next = await runsApi.get(id, 2);
      } catch (err) {
        toast(`Lost the run: ${err.message}`);
        return;
      }
      if (run.run_id !== id) return; // another run replaced this one
      run = next;
      draw();
    }
    onEnd?.();
  }

  async function cancel() {
    if (!running()) return;
    try {
      await runsApi.cancel(run.run_id);
    } catch (err) {
      toast(`Could not cancel the run: ${err.message}`);
    }
  }

  return {
    element,
    /** The panel content; the same element each time, so the editor keeps its text and focus. */
    render() {
      if (models.options.length <= 1 || models.dataset.for !== String(store.get().lineage?.ids.length)) {
        fillModels();
        models.dataset.for = String(store.get().lineage?.ids.length);
      }
      return element;
    },
    setSql(text) { sql.value = text; },
    focus() { sql.focus(); },
  };
}
