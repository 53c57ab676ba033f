// The checklist (left column) and the check view (side panel): parameters, a Markdown
// description, approval, the latest run's result by type, earlier runs, rerun, delete.

import { ago, h } from "./dom.js";
import { renderMarkdown } from "./markdown.js";
import { renderRunResult } from "./results.js";

export const TYPE_LABELS = {
  schema_diff: "Schema diff",
  lineage_diff: "Lineage diff",
  row_count_diff: "Row count diff",
  query_diff: "Query diff",
  query: "Query",
  value_diff: "Value diff",
  value_diff_detail: "Value diff detail",
  profile_diff: "Profile diff",
  top_k_diff: "Top-k diff",
  histogram_diff: "Histogram diff",
  simple: "Note",
};

export const typeLabel = (type) => TYPE_LABELS[type] ?? type;

export function renderChecklist(listEl, { checks, openId }, actions) {
  listEl.replaceChildren();
  const approved = checks.filter((c) => c.is_checked).length;
  const count = document.getElementById("checks-count");
  count.textContent = checks.length ? `${approved}/${checks.length}` : "";
  count.title = `${approved} of ${checks.length} approved`;
  if (!checks.length) {
    listEl.append(h("li", { class: "empty muted" }, "No checks yet. Add one from a node's panel or from the lineage filters."));
    return;
  }
  checks.forEach((check, index) => {
    listEl.append(h("li", {
        class: `check-item${check.check_id === openId ? " open" : ""}${check.is_checked ? " approved" : ""}`,
        draggable: "true",
        dataset: { checkId: check.check_id, index: String(index) },
        onclick: () => actions.openCheck(check.check_id),
        ondragstart: (e) => e.dataTransfer.setData("text/x-check-index", String(index)),
        ondragover: (e) => e.preventDefault(),
        ondrop: (e) => {
          e.preventDefault();
          const from = Number(e.dataTransfer.getData("text/x-check-index"));
          if (!Number.isNaN(from)) actions.moveCheck(from, index);
        },
      },
      h("span", { class: "tick", title: check.is_checked ? "Approved" : "Not approved yet" }, check.is_checked ? "✓" : ""),
      h("span", { class: "check-text" },
        h("span", { class: "check-name" }, check.name || "(unnamed)"),
        h("span", { class: "check-type" }, typeLabel(check.type)),
      ),
      h("span", { class: "order" },
        h("button", { class: "icon up", title: "Move up", disabled: index === 0,
          onclick: (e) => { e.stopPropagation(); actions.moveCheck(index, index - 1); } }, "↑"),
        h("button", { class: "icon down", title: "Move down", disabled: index === checks.length - 1,
          onclick: (e) => { e.stopPropagation(); actions.moveCheck(index, index + 1); } }, "↓"),
      ),
    ));
  });
}

function paramsList(params) {
  const parts = Object.entries(params ?? {}).filter(([, v]) => v !== undefined && v !== null && v !== "");
  if (!parts.length) return h("p", { class: "muted small" }, "No parameters.");
  return h("dl", { class: "facts params-list" }, parts.map(([k, v]) => [
    h("dt", {}, k),
    h("dd", {}, Array.isArray(v) ? v.join(", ") : typeof v === "object" ? JSON.stringify(v) : String(v)),
  ]));
}

/** The description: rendered Markdown, and an editor behind "Edit". */
function description(check, actions) {
  const text = check.description ?? "";
  const wrap = h("div", { class: "description" });
  const show = () => {
    wrap.replaceChildren(
      text ? renderMarkdown(text) : h("p", { class: "muted small" }, "No description."),
      h("button", { type: "button", class: "small secondary edit-description", onclick: edit }, text ? "Edit description" : "Add a description"),
    );
  };
  const edit = () => {
    const area = h("textarea", { class: "check-description", rows: 5, "aria-label": "Description",
      placeholder: "What you checked and why. Markdown: **bold**, *italic*, `code`, lists, [links](https://…)", value: text });
    wrap.replaceChildren(area,
      h("div", { class: "row" },
        h("button", { type: "button", class: "small save-description", onclick: () => actions.updateCheck(check.check_id, { description: area.value }) }, "Save"),
        h("button", { type: "button", class: "small secondary", onclick: show }, "Cancel"),
        h("span", { class: "muted small" }, "Markdown"),
      ));
    area.focus();
  };
  show();
  return wrap;
}

export function checkPanel(check, { runs, resultContext }, actions) {
  const id = check.check_id;
  const name = h("input", { class: "check-title", value: check.name ?? "", "aria-label": "Check name",
    onchange: () => actions.updateCheck(id, { name: name.value }) });
  const approve = h("input", { type: "checkbox", class: "approve", checked: !!check.is_checked,
    onchange: () => actions.updateCheck(id, { is_checked: approve.checked }) });
  const ownRuns = runs.filter((r) => r.check_id === id);
  const last = check.last_run ?? null;
  const earlier = ownRuns.filter((r) => r.run_id !== last?.run_id);
  return h("div", { class: "check-panel", dataset: { checkId: id } },
    h("div", { class: "panel-head" },
      name,
      h("button", { class: "icon close", title: "Close (Esc)", onclick: actions.close }, "×"),
    ),
    h("div", { class: "check-type muted" }, typeLabel(check.type)),
    description(check, actions),
    h("label", { class: "approve-row" }, approve, check.is_checked ? "Approved" : "Mark as approved"),
    h("h3", {}, "Parameters"),
    paramsList(check.params),
    h("div", { class: "section-head" },
      h("h3", {}, "Result"),
      check.type !== "simple"
        ? h("button", { class: "small rerun", onclick: () => actions.runCheck(id) }, last ? "Rerun" : "Run")
        : null,
    ),
    last ? h("p", { class: "muted small last-run" }, `Last run ${ago(last.run_at)} · ${last.status ?? ""}`) : null,
    check.type === "simple" ? h("p", { class: "muted small" }, "A note: nothing to run.") : renderRunResult(last, { ...resultContext, viewOptions: check.view_options ?? null }),
    earlier.length
      ? h("details", { class: "earlier-runs" },
          h("summary", {}, `Earlier runs (${earlier.length})`),
          h("ul", {}, earlier.map((r) => h("li", {},
            h("a", { href: "#", onclick: (e) => { e.preventDefault(); actions.openRun(r.run_id); } }, `${ago(r.run_at)} · ${r.status}`)))))
      : null,
    h("div", { class: "danger-row" },
      h("button", { class: "danger delete", onclick: () => actions.deleteCheck(id) }, "Delete check"),
    ),
  );
}
