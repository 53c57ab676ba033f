// The node panel: what the node is, what changed, and its schema diff.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function statusOf(lineage, id) {
  return lineage.diff?.[id]?.change_status ?? "unchanged";
}

/**
 * Rows of the schema diff of one node: current column order, with removed columns placed at
 * their base position. Status comes from the server's diff when it has one.
 */
export function schemaDiff(lineage, id) {
  const base = lineage.base?.nodes?.[id];
  const current = lineage.current?.nodes?.[id];
  const baseCols = base?.columns ?? null;
  const currCols = current?.columns ?? null;
  const reported = lineage.diff?.[id]?.change?.columns ?? null;
  const baseNames = baseCols ? Object.keys(baseCols) : [];
  const currNames = currCols ? Object.keys(currCols) : [];
  const names = [...currNames];
  // A removed column goes right after the column that preceded it in base.
  baseNames.forEach((name, i) => {
    if (currCols && name in currCols) return;
    const before = i > 0 ? names.indexOf(baseNames[i - 1]) : -1;
    names.splice(before + 1, 0, name);
  });
  const rows = names.map(row);
  return {
    rows,
    baseMissing: baseCols === null,
    currentMissing: currCols === null,
    inBase: base !== undefined,
    inCurrent: current !== undefined,
  };

  function row(name) {
    const b = baseCols?.[name];
    const c = currCols?.[name];
    let status = reported?.[name] ?? null;
    if (status === null && baseCols && currCols) {
      if (!b) status = "added";
      else if (!c) status = "removed";
      else if (b.type !== c.type) status = "modified";
    }
    return { name, baseType: b?.type ?? null, currentType: c?.type ?? null, status };
  }
}

const STATUS_WORDS = { added: "added", removed: "removed", modified: "type changed" };

export function schemaDiffTable(lineage, id) {
  const diff = schemaDiff(lineage, id);
  const wrap = h("div", { class: "schema-diff", dataset: { nodeId: id } });
  if (diff.baseMissing && diff.currentMissing) {
    wrap.append(
      h("p", { class: "muted" }, "No catalog columns for this node on either side. Run ",
        h("code", {}, "dbt docs generate"), " for both environments to see its schema."),
    );
    return wrap;
  }
  if (diff.inBase && diff.inCurrent && (diff.baseMissing || diff.currentMissing)) {
    const side = diff.baseMissing ? "base" : "current";
    wrap.append(
      h("p", { class: "warn" }, `The ${side} catalog has no columns for this node, so the columns are not compared.`),
    );
  }
  const changed = diff.rows.filter((r) => r.status).length;
  wrap.append(
    h("p", { class: "schema-summary" },
      changed ? `${changed} of ${diff.rows.length} columns changed` : `${diff.rows.length} columns, no schema change`),
  );
  const table = h("table", { class: "schema" },
    h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, "column"), h("th", {}, "base type"), h("th", {}, "current type"))),
  );
  const body = h("tbody");
  for (const r of diff.rows) {
    body.append(
      h("tr", { class: r.status ? `col-${r.status}` : "", dataset: { column: r.name, status: r.status ?? "unchanged" } },
        h("td", { class: "mark", title: r.status ? STATUS_WORDS[r.status] : "" },
          r.status === "added" ? "+" : r.status === "removed" ? "−" : r.status === "modified" ? "~" : ""),
        h("td", { class: "colname" }, r.name),
        h("td", {}, r.baseType ?? "—"),
        h("td", {}, r.currentType ?? "—"),
      ),
    );
  }
  table.append(body);
  wrap.append(table);
  return wrap;
}

/** What changed on a node, in words. */
export function changeSummary(lineage, id) {
  const entry = lineage.diff?.[id];
  if (!entry) return [];
  if (entry.change_status === "added") return ["New in the current environment."];
  if (entry.change_status === "removed") return ["Removed: only in the base environment."];
  const base = lineage.base.nodes[id] ?? {};
  const current = lineage.current.nodes[id] ?? {};
  const lines = [];
  if (base.raw_code !== undefined && base.raw_code !== current.raw_code) lines.push("Code changed.");
  else if (base.checksum?.checksum && base.checksum.checksum !== current.checksum?.checksum)
    lines.push("File contents changed.");
  const bm = base.config?.materialized, cm = current.config?.materialized;
  if (bm !== cm && (bm || cm)) lines.push(`Materialized: ${bm ?? "—"} → ${cm ?? "—"}.`);
  const cols = entry.change?.columns;
  if (cols) {
    const counts = { added: 0, removed: 0, modified: 0 };
    for (const s of Object.values(cols)) counts[s] = (counts[s] ?? 0) + 1;
    const parts = Object.entries(counts).filter(([, n]) => n).map(([s, n]) => `${n} ${STATUS_WORDS[s]}`);
    if (parts.length) lines.push(`Columns: ${parts.join(", ")}.`);
  }
  if (!lines.length) {
    lines.push("Modified per dbt state:modified (config, description, contract or an upstream macro).");
  }
  if (entry.change?.category && entry.change.category !== "unknown") {
    lines.push(`Change category: ${entry.change.category.replace("_", " ")}.`);
  }
  return lines;
}

export function nodePanel(lineage, id, { onAddSchemaCheck, onClose, picked = false, onPick = null }) {
  const node = lineage.current.nodes[id] ?? lineage.base.nodes[id];
  const status = statusOf(lineage, id);
  const panel = h("div", { class: "node-panel", dataset: { nodeId: id } },
    h("div", { class: "panel-head" },
      h("h2", {}, node.name),
      h("button", { class: "icon", title: "Close", onclick: onClose }, "×"),
    ),
    h("div", { class: "uid" }, id),
    h("dl", { class: "facts" },
      h("dt", {}, "Type"), h("dd", { class: "resource-type" }, node.resource_type),
      h("dt", {}, "Package"), h("dd", {}, node.package_name ?? "—"),
      h("dt", {}, "Status"), h("dd", {}, h("span", { class: `badge ${status}` }, status)),
      node.config?.materialized ? [h("dt", {}, "Materialized"), h("dd", {}, node.config.materialized)] : null,
    ),
  );
  const summary = changeSummary(lineage, id);
  if (summary.length) panel.append(h("ul", { class: "changes" }, summary.map((line) => h("li", {}, line))));
  panel.append(
    h("div", { class: "section-head" },
      h("h3", {}, "Schema"),
      h("button", { class: "small", onclick: () => onAddSchemaCheck(id) }, "Add schema diff check"),
    ),
    onPick
      ? h("label", { class: "pick-row", title: "Or shift-click nodes in the lineage" },
          h("input", { type: "checkbox", class: "pick", checked: picked, onchange: (e) => onPick(id, e.target.checked) }),
          "Select for a schema diff check of several nodes")
      : null,
    schemaDiffTable(lineage, id),
  );
  const base = lineage.base.nodes[id], current = lineage.current.nodes[id];
  if (base?.raw_code !== undefined && current?.raw_code !== undefined && base.raw_code !== current.raw_code) {
    panel.append(
      h("details", { class: "code" },
        h("summary", {}, "Code, base and current"),
        h("div", { class: "code-pair" },
          h("pre", {}, h("b", {}, "base\n"), base.raw_code),
          h("pre", {}, h("b", {}, "current\n"), current.raw_code),
        ),
      ),
    );
  }
  return panel;
}
