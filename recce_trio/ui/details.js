// The node panel: what the node is, what changed, and three tabs: its schema diff, its code
// diff (raw or compiled, unified or side by side) and its config diff (unrendered_config).
// Reads the merged lineage's node and the node's details from GET /api/models/{id}.

import { canonicalJson, codeDiff } from "./codediff.js";
import { h } from "./dom.js";
import { nodeStatuses, schemaTable, statusCounts } from "./schema.js";

export const NODE_TABS = ["schema", "code", "config"];

const columnsOf = (side) => (side?.columns ? Object.values(side.columns).map((c) => [c.name, c.type ?? null]) : null);
const has = (side) => side && Object.keys(side).length > 0;

/** What changed on a node, in words, from the merged node and its details. */
export function changeSummary(node, details) {
  const status = node.change_status;
  if (!status) return [];
  if (status === "added") return ["New in the current environment."];
  if (status === "removed") return ["Removed: only in the base environment."];
  const lines = [];
  const base = details?.base ?? {}, current = details?.current ?? {};
  if (details) {
    if (base.raw_code !== undefined && base.raw_code !== current.raw_code) lines.push("Code changed.");
    else if (base.checksum?.checksum && base.checksum.checksum !== current.checksum?.checksum) lines.push("File contents changed.");
    const bm = base.config?.materialized, cm = current.config?.materialized;
    if (bm !== cm && (bm || cm)) lines.push(`Materialized: ${bm ?? "—"} → ${cm ?? "—"}.`);
    if (canonicalJson(base.unrendered_config) !== canonicalJson(current.unrendered_config)) lines.push("Config changed.");
  }
  const cols = statusCounts(node.columns_changed);
  if (cols) lines.push(`Columns: ${cols}.`);
  if (details && !lines.length) {
    lines.push("Modified per dbt state:modified (description, contract, tests or an upstream macro).");
  }
  if (node.category && node.category !== "unknown") lines.push(`Change category: ${node.category.replace("_", " ")}.`);
  return lines;
}

function segmented(name, options, value, onChange) {
  return h("div", { class: "segmented small", role: "radiogroup", "aria-label": name },
    options.map(([v, label]) =>
      h("label", {}, h("input", { type: "radio", name, value: v, checked: v === value, onchange: () => onChange(v) }), ` ${label}`)));
}

function codeTab(node, details, view, actions) {
  const base = details.base ?? {}, current = details.current ?? {};
  const hasCompiled = typeof base.compiled_code === "string" || typeof current.compiled_code === "string";
  const side = view.codeSide === "compiled" && hasCompiled ? "compiled" : "raw";
  const key = side === "compiled" ? "compiled_code" : "raw_code";
  const oldText = base[key], newText = current[key];
  const wrap = h("div", { class: "code-tab" });
  const tools = h("div", { class: "diff-tools" },
    segmented("code-view", [["unified", "Unified"], ["split", "Side by side"]], view.codeView, actions.setCodeView),
    hasCompiled
      ? segmented("code-side", [["raw", "Raw"], ["compiled", "Compiled"]], side, actions.setCodeSide)
      : h("span", { class: "muted small" }, "No compiled code in the manifests"),
  );
  // A seed's raw_code is "" (its rows are a CSV file the manifest does not hold).
  const none = (text) => typeof text !== "string" || (node.resource_type === "seed" && !text);
  if (none(oldText) && none(newText)) {
    if (node.resource_type === "seed") {
      const changed = base.checksum?.checksum && base.checksum.checksum !== current.checksum?.checksum;
      wrap.append(h("p", { class: "muted" }, changed
        ? "The seed's file changed (its checksum differs). The manifest does not hold a seed's rows; see Config for its settings."
        : "The manifest does not hold a seed's rows; its checksum is unchanged."));
    } else {
      wrap.append(h("p", { class: "muted" }, `A ${node.resource_type} has no code in the manifest; see Config.`));
    }
    return wrap;
  }
  wrap.append(tools);
  if (!has(details.base)) wrap.append(h("p", { class: "muted small" }, "Added: every line is new."));
  else if (!has(details.current)) wrap.append(h("p", { class: "muted small" }, "Removed: every line is gone."));
  else if (oldText === newText) wrap.append(h("p", { class: "muted small no-change" }, `No change in the ${side} code.`));
  wrap.append(codeDiff(oldText ?? "", newText ?? "", { mode: view.codeView }));
  return wrap;
}

function configTab(details, view, actions) {
  const base = details.base ?? {}, current = details.current ?? {};
  const oldText = canonicalJson(base.unrendered_config ?? (has(details.base) ? {} : null));
  const newText = canonicalJson(current.unrendered_config ?? (has(details.current) ? {} : null));
  return h("div", { class: "config-tab" },
    h("div", { class: "diff-tools" },
      segmented("config-view", [["unified", "Unified"], ["split", "Side by side"]], view.codeView, actions.setCodeView),
      h("span", { class: "muted small" }, "unrendered_config, as written in the project"),
    ),
    oldText === newText ? h("p", { class: "muted small no-change" }, "No change in the config.") : null,
    codeDiff(oldText, newText, { mode: view.codeView }),
  );
}

function schemaTab(id, node, details) {
  const base = columnsOf(details.base), current = columnsOf(details.current);
  return schemaTable({
    id,
    base,
    current,
    statuses: nodeStatuses(node.change_status, node.columns_changed, base, current),
    changeStatus: node.change_status,
    inBase: has(details.base),
    inCurrent: has(details.current),
  });
}

/**
 * The panel. `details` is GET /api/models/{id}'s `model` ({base, current}), or null while it
 * loads, or {error}. `view` = {tab, codeView, codeSide, picked, impact}.
 */
export function nodePanel(id, node, details, view, actions) {
  const status = node.change_status ?? "unchanged";
  const panel = h("div", { class: "node-panel", dataset: { nodeId: id } },
    h("div", { class: "panel-head" },
      h("h2", {}, node.name),
      h("button", { class: "icon close", title: "Close (Esc)", onclick: actions.close }, "×"),
    ),
    h("div", { class: "uid" }, id),
    h("dl", { class: "facts" },
      h("dt", {}, "Type"), h("dd", { class: "resource-type" }, node.resource_type),
      h("dt", {}, "Package"), h("dd", {}, node.package_name || "—"),
      h("dt", {}, "Status"), h("dd", {}, h("span", { class: `badge ${status}` }, status)),
      node.materialized ? [h("dt", {}, "Materialized"), h("dd", {}, node.materialized)] : null,
      view.impact !== undefined ? [h("dt", {}, "Downstream"), h("dd", { class: "impact" }, `${view.impact} node${view.impact === 1 ? "" : "s"}`)] : null,
    ),
  );
  const summary = changeSummary(node, details?.error ? null : details);
  if (summary.length) panel.append(h("ul", { class: "changes" }, summary.map((line) => h("li", {}, line))));
  panel.append(
    h("div", { class: "node-actions" },
      h("button", { class: "small", onclick: () => actions.addSchemaCheck(id) }, "Add schema diff check"),
      h("label", { class: "pick-row", title: "Or shift-click nodes in the lineage" },
        h("input", { type: "checkbox", class: "pick", checked: view.picked, onchange: (e) => actions.pick(id, e.target.checked) }),
        "Select for a schema diff check of several nodes"),
    ),
    h("div", { class: "tabs", role: "tablist" },
      NODE_TABS.map((tab) => h("button", {
        type: "button", role: "tab", class: `tab${tab === view.tab ? " active" : ""}`, dataset: { tab },
        "aria-selected": tab === view.tab ? "true" : "false", onclick: () => actions.setTab(tab),
      }, tab[0].toUpperCase() + tab.slice(1))),
    ),
  );
  const body = h("div", { class: "tab-body", dataset: { tab: view.tab } });
  if (details === null) body.append(h("p", { class: "muted" }, "Loading the node's details…"));
  else if (details.error) body.append(h("p", { class: "error-line" }, `Could not load the node's details: ${details.error}`));
  else if (view.tab === "code") body.append(codeTab(node, details, view, actions));
  else if (view.tab === "config") body.append(configTab(details, view, actions));
  else body.append(schemaTab(id, node, details));
  panel.append(body);
  return panel;
}
