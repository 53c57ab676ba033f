// How a run's result is shown, by run type. This is the extension point for result views:
// a module calls registerResultView("row_count_diff", (run, ctx) => element) and every place
// that shows a run (the check view, the run view) uses it. Unknown types show their JSON.

import { h } from "./dom.js";
import { resultStatuses, schemaTable } from "./schema.js";

const views = new Map();

/**
 * render(run, ctx) returns a DOM element for a finished run's result. ctx has
 * nodeName(id), nodeStatus(id), openNode(id), showLineage(params).
 */
export function registerResultView(type, render) {
  views.set(type, render);
}

export function hasResultView(type) {
  return views.has(type);
}

export function renderRunResult(run, ctx) {
  if (!run) return h("p", { class: "muted no-run" }, "Not run yet.");
  if (run.status === "Running") return h("p", { class: "muted" }, "Running…");
  if (run.error) return h("p", { class: "error-line run-error" }, `${run.status ?? "Failed"}: ${run.error}`);
  const view = views.get(run.type);
  if (view) return h("div", { class: "run-result", dataset: { type: run.type } }, view(run, ctx));
  return h("div", { class: "run-result", dataset: { type: run.type } },
    h("pre", { class: "params" }, JSON.stringify(run.result, null, 2)));
}

// ---- the run types the server computes from the artifacts ----

const columnsList = (cols) => (cols === null || cols === undefined ? null : Object.entries(cols));

registerResultView("schema_diff", (run, ctx) => {
  const nodes = run.result?.nodes ?? {};
  const ids = Object.keys(nodes);
  const summary = run.result?.summary;
  return h("div", {},
    summary ? h("p", { class: "muted small" }, `${summary.schema_changed} of ${summary.nodes} node${summary.nodes === 1 ? "" : "s"} with schema changes`) : null,
    ids.map((id) => {
      const entry = nodes[id];
      return h("div", { class: "result-node" },
        h("h4", {}, h("a", { href: "#", onclick: (e) => { e.preventDefault(); ctx.openNode(id); } }, entry.name ?? id),
          entry.change_status ? h("span", { class: `badge ${entry.change_status}` }, entry.change_status) : null),
        schemaTable({
          id,
          base: columnsList(entry.base),
          current: columnsList(entry.current),
          statuses: resultStatuses(entry),
          changeStatus: entry.change_status,
          inBase: entry.base !== null,
          inCurrent: entry.current !== null,
        }),
      );
    }),
  );
});

registerResultView("lineage_diff", (run, ctx) => {
  const nodes = run.result?.nodes ?? [];
  const diff = run.result?.diff ?? {};
  const changed = nodes.filter((id) => diff[id]);
  return h("div", {},
    h("p", { class: "muted small" }, `${nodes.length} node${nodes.length === 1 ? "" : "s"}, ${changed.length} changed`),
    h("button", { class: "small", onclick: () => ctx.showLineage(run.params ?? {}) }, "Show in lineage"),
    changed.length
      ? h("ul", { class: "result-list" }, changed.slice(0, 200).map((id) =>
          h("li", {},
            h("span", { class: `badge ${diff[id].change_status}` }, diff[id].change_status), " ",
            h("a", { href: "#", onclick: (e) => { e.preventDefault(); ctx.openNode(id); } }, ctx.nodeName(id)))))
      : h("p", { class: "muted" }, "Nothing changed in this selection."),
    changed.length > 200 ? h("p", { class: "muted small" }, `and ${changed.length - 200} more`) : null,
  );
});
