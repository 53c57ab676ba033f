// The review's views besides the lineage and the changed list: the node, check, run and Query
// panels, the checklist, the runs list, column lineage, and row counts on the graph. Loaded
// by review.js once the first view of the lineage is on screen, which needs none of them:
// each module the page loads is a request to a server that has just become ready, and
// script to compile, on the way to that first frame. They draw the state as it is then.

import { checkPanel, renderChecklist } from "./checks.js";
import { CllView } from "./cll-view.js";
import { nodePanel } from "./details.js";
import { $, h } from "./dom.js";
import { createQueryView } from "./query-view.js";
import { renderRunList, runPanel } from "./runs.js";
import { watchRowCounts } from "./row-counts.js";
import "./result-views/data.js";
import "./result-views/charts.js";

export { registerResultView } from "./results.js";

/** Wire the views to the store (review.js's) and draw them. */
export function wirePanels({ store, actions, lineageView, loadRuns, toast }) {
  const nameToId = () => {
    const lineage = store.get().lineage;
    if (nameToId.for !== lineage) {
      nameToId.for = lineage;
      nameToId.map = new Map();
      for (const id of lineage?.ids ?? []) if (!id.startsWith("test.")) nameToId.map.set(lineage.nodes[id].name, id);
    }
    return nameToId.map;
  };
  const resultContext = {
    nodeName: (id) => store.get().lineage?.nodes[id]?.name ?? id,
    openNode: (id) => actions.openNode(id, { center: true }),
    nodeId: (name) => nameToId().get(name) ?? null,
    showLineage: (params) => actions.showLineage(params),
  };
  const queryView = createQueryView({ store, actions, resultContext, toast, onEnd: () => loadRuns() });
  const cllView = new CllView({
    graph: () => lineageView.graph,
    nodeName: (id) => store.get().lineage?.nodes[id]?.name ?? id,
    openNode: (id) => actions.openNode(id, { center: true }),
  });

  function renderPanel(state) {
    const panel = $("panel");
    const { kind, id } = state.panel ?? {};
    let content = null;
    if (kind === "node" && state.lineage?.nodes[id]) {
      content = nodePanel(id, state.lineage.nodes[id], state.details[id] ?? null, {
        tab: state.nodeTab, codeView: state.codeView, codeSide: state.codeSide,
        picked: state.picked.includes(id), impact: state.lineage.impact[id],
      }, actions);
      content.append(cllView.columnsSection(id));
    } else if (kind === "check") {
      const check = state.checks.find((c) => c.check_id === id);
      if (check) content = checkPanel(check, { runs: state.runs, resultContext }, actions);
    } else if (kind === "run" && state.openRun?.run_id === id) {
      content = runPanel(state.openRun, { durations: state.durations, resultContext }, actions);
    } else if (kind === "run") {
      content = h("p", { class: "muted" }, "Loading the run…");
    } else if (kind === "query") {
      content = queryView.render();
    }
    panel.hidden = !content;
    document.body.classList.toggle("with-panel", !!content);
    if (!content) panel.replaceChildren();
    else if (panel.firstChild !== content) panel.replaceChildren(content); // the Query view stays as it is
  }

  const renderChecks = (s) => renderChecklist($("checks-list"), { checks: s.checks, openId: s.panel?.kind === "check" ? s.panel.id : null }, actions);
  const renderRuns = (s) => renderRunList($("runs-list"), { runs: s.runs, openId: s.panel?.kind === "run" ? s.panel.id : null, durations: s.durations }, actions);
  store.subscribe(["lineage"], () => cllView.reset());
  store.subscribe(["panel", "nodeTab", "codeView", "codeSide", "picked", "details", "checks", "runs", "openRun", "durations", "lineage"], renderPanel);
  store.subscribe(["checks", "panel"], renderChecks);
  store.subscribe(["runs", "panel", "durations"], renderRuns);
  $("open-query").addEventListener("click", () => {
    store.set({ panel: { kind: "query", id: "sql" } });
    queryView.focus();
  });
  watchRowCounts(store, () => lineageView.graph);
  const state = store.get();
  for (const render of [renderPanel, renderChecks, renderRuns]) render(state);
}
