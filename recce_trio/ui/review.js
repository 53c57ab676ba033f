// recce-trio's review, loaded by app.js once the server is ready. One store holds the state
// (store.js); the views subscribe to the keys they draw; the actions (actions.js) are the only
// writers. The URL mirrors the view (router.js).

//
// This module and its imports draw the first view (the lineage, the header, the side tabs, and
// the changed list in the task after its first frame); the other views (panels.js) are loaded
// once that view is on screen.

import { createActions } from "./actions.js";
import { api } from "./api.js";
import { changedIds, renderChangedList } from "./changed-list.js";
import { $, h, preload } from "./dom.js";
import { changedModels, loadLineage, projectOf } from "./lineage-data.js";
import { LineageView, readFilters } from "./lineage-view.js";
import { bindUrl, queryToState, stateToQuery } from "./router.js";
import { showView } from "./startup.js";
import { createStore } from "./store.js";

const store = createStore({
  info: null, // /api/info without the lineage
  lineage: null, // {ids, nodes, edges, metadata, impact} (info-worker.js)
  selection: null, // the /api/select body of what is shown
  shown: null, // {ids, edges}
  group: null, // "folder": the lineage drawn one node per folder (groups.js); "chains": unchanged chains folded (chains.js)
  selectError: null,
  panel: null, // {kind: "node"|"check"|"run", id}
  nodeTab: "schema",
  codeView: "unified",
  codeSide: "raw",
  picked: [], // node ids picked (shift-click) for one check, in pick order
  side: "changed", // the left column: changed | checks | runs
  listQuery: "",
  listSort: "impact",
  checks: [],
  runs: [],
  details: {}, // node id -> GET /api/models/{id}'s model, or {error}
  openRun: null, // the full run shown in the panel
  durations: {}, // run id -> seconds, for runs this page watched end
});

let timings = {}; // the page's marks (app.js's), for the benchmarks
let lineageView = null;
let panelsLoaded; // resolves to panels.js
const panelsModule = new Promise((resolve) => (panelsLoaded = resolve));
const { actions, loadDetails, loadChecks, loadRuns } = createActions(store, { lineageView: () => lineageView, toast });

// ---- data ----

/** Load the lineage (`pending`: already asked for) into the store, with `more(lineage)`'s patch. */
async function loadInfo(pending = null, more = () => ({})) {
  const { info, lineage, ms, bytes, at } = await (pending ?? loadLineage(timings).lineage);
  // The worker's marks, on this page's clock.
  const marks = Object.fromEntries(Object.entries(at ?? {}).map(([k, v]) => [k, v - performance.timeOrigin]));
  timings.info = { ms, bytes, ...marks };
  lineageView?.clearLayouts();
  const picked = store.get().picked.filter((id) => id in lineage.nodes);
  store.set({ info, lineage, picked, details: {}, ...more(lineage) });
}

// The first view: the changed models, laid out before the list is rendered.
function firstView(lineage) {
  const first = changedModels(lineage);
  return first ? lineageView.provisionally(first) : {};
}

function renderHeader({ info, lineage }) {
  const meta = lineage.metadata?.current?.manifest_metadata ?? lineage.metadata?.base?.manifest_metadata ?? {};
  const bits = [meta.project_name, info.git?.branch ? `branch ${info.git.branch}` : null, meta.dbt_version ? `dbt ${meta.dbt_version}` : null];
  $("project").textContent = bits.filter(Boolean).join(" · ");
  const counts = { added: 0, removed: 0, modified: 0 };
  for (const id of Object.keys(lineage.impact)) counts[lineage.nodes[id].change_status]++;
  $("summary").replaceChildren(...Object.entries(counts).map(([s, n]) => h("span", { class: `badge ${s}` }, `${n} ${s}`)));
}

const projectName = () => projectOf(store.get().lineage);

// panels.js and the modules it imports that the first view has not (asked for all at once;
// tests/unit/test_ui_modules.py checks the list).
export const PANELS = [
  "panels.js", "checks.js", "cll-view.js", "details.js", "query-view.js", "runs.js",
  "row-counts.js", "results.js", "markdown.js", "codediff.js", "schema.js", "vendor/diff.min.js",
  "result-views/data.js", "result-views/charts.js", "result-views/frame.js",
];

/** The other views (panels.js), loaded and drawn in the task after the first frame, and
 * the layout worker then started (a small project's first view has started it already). */
async function loadPanels() {
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));
  try {
    preload(PANELS);
    const module = await import("./panels.js");
    module.wirePanels({ store, actions, lineageView, loadRuns, toast });
    timings.panelsAt = performance.now();
    panelsLoaded(module);
  } catch (err) {
    toast(`Could not load the page's views: ${err.message}`);
  }
  lineageView.startWorker();
}

let shownIds = []; // the changed list's ids as shown (the arrow keys move through them)
const listIds = () => shownIds;
let listShown = false;
function renderList(state) {
  if (!state.lineage) return;
  if (!listShown) {
    // The first list after the first frame of the graph, so that the graph is not held up
    // by the list's layout and paint; the frame drawn, it comes in the next.
    listShown = true;
    requestAnimationFrame(() => setTimeout(() => renderList(store.get())));
    return;
  }
  shownIds = changedIds(state.lineage, state.listQuery, state.listSort);
  const activeId = state.panel?.kind === "node" ? state.panel.id : null;
  renderChangedList($("changed-list"), { lineage: state.lineage, ids: shownIds, activeId }, actions);
  timings.listAt ??= performance.now();
  $("changed-list").querySelector(".active")?.scrollIntoView({ block: "nearest" });
}

function renderSide(state) {
  for (const side of ["changed", "checks", "runs"]) {
    $(`side-${side}`).hidden = state.side !== side;
    $(`tab-${side}`).classList.toggle("active", state.side === side);
    $(`tab-${side}`).setAttribute("aria-selected", state.side === side ? "true" : "false");
  }
}

function moveInList(step) {
  const ids = listIds();
  if (!ids.length) return;
  const { panel } = store.get();
  const at = panel?.kind === "node" ? ids.indexOf(panel.id) : -1;
  const next = at < 0 ? (step > 0 ? 0 : ids.length - 1) : Math.min(ids.length - 1, Math.max(0, at + step));
  actions.openNode(ids[next], { center: true });
}

function bindKeys() {
  document.addEventListener("keydown", (e) => {
    const typing = e.target.matches?.("input, textarea, select") && e.target.id !== "list-search";
    if (e.key === "/" && !e.target.matches?.("input, textarea, select")) {
      e.preventDefault();
      store.set({ side: "changed" });
      $("list-search").focus();
      $("list-search").select();
    } else if (e.key === "Escape") {
      e.preventDefault(); // a search box keeps its text: Esc is for the panel
      const editing = e.target.matches?.("textarea, .panel-head input");
      if (e.target.matches?.("input, textarea, select")) e.target.blur();
      if (!editing) actions.close(); // Esc while editing a check leaves the editor, not the panel

    } else if ((e.key === "ArrowDown" || e.key === "ArrowUp") && !typing && store.get().side === "changed"
      && (e.target === document.body || e.target.closest?.("#side-changed, #graph-wrap"))) {
      e.preventDefault();
      moveInList(e.key === "ArrowDown" ? 1 : -1);
    } else if (e.key === "Enter" && e.target.id === "list-search" && listIds().length) {
      actions.openNode(listIds()[0], { center: true });
    }
  });
}

// ---- live updates ----

function connectWs() {
  let delay = 500;
  let everOpen = false;
  const open = () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/api/ws`);
    ws.onopen = () => ws.send("ping");
    ws.onmessage = (event) => {
      if (event.data === "pong") {
        $("ws-status").className = "dot live";
        $("ws-status").title = "Live: the page refreshes when the artifacts change";
        delay = 500;
        if (everOpen) refresh(); // reconnected: catch up on what was missed
        everOpen = true;
        return;
      }
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.command === "refresh") refresh();
      else if (message.command === "relaunch") {
        $("notice").textContent = "The base environment is now built. Restart the server to compare against it.";
        $("notice").hidden = false;
      }
    };
    ws.onclose = () => {
      $("ws-status").className = "dot";
      $("ws-status").title = "Not connected: live updates paused, reconnecting…";
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 10000);
    };
  };
  open();
}

let refreshing = null;
function refresh() {
  // Coalesce bursts of file events into one re-fetch.
  refreshing ??= (async () => {
    try {
      await loadInfo();
      await lineageView.apply(store.get().selection ?? readFilters());
      await Promise.all([loadChecks(), loadRuns()]);
      const { panel } = store.get();
      if (panel?.kind === "node") {
        if (panel.id in store.get().lineage.nodes) loadDetails(panel.id);
        else actions.close();
      }
      timings.refreshes = (timings.refreshes ?? 0) + 1;
    } catch (err) {
      toast(`Refresh failed: ${err.message}`);
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

function toast(message) {
  const el = $("toast");
  el.textContent = message;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (el.hidden = true), 6000);
}

// ---- start ----

/** Restore the view a URL (or a history entry) describes. */
async function restore(search) {
  const project = projectName();
  const wanted = queryToState(search, { packages: project ? [project] : undefined });
  const { selection } = wanted;
  if (selection && JSON.stringify(selection) !== JSON.stringify(store.get().selection)) await lineageView.apply(selection);
  restoreView(wanted);
}

/** All but the selection of the view `wanted` (queryToState): the panel, its tabs, the side. */
function restoreView(wanted) {
  const { selection: _selection, ...rest } = wanted;
  store.set(rest);
  const { panel } = store.get();
  if (panel?.kind === "node") loadDetails(panel.id);
  if (panel?.kind === "run") actions.openRun(panel.id);
  if (panel?.kind === "check") store.set({ side: wanted.side ?? "checks" });
}

function wire() {
  lineageView = new LineageView(store, {
    openNode: (id) => actions.openNode(id),
    pick: (id) => { actions.pick(id); actions.openNode(id); },
  });
  store.subscribe(["info", "lineage"], (state) => state.lineage && renderHeader(state));
  store.subscribe(["side"], renderSide);
  store.subscribe(["lineage", "listQuery", "listSort", "panel"], renderList);
  $("filters").addEventListener("submit", (e) => {
    e.preventDefault();
    lineageView.apply(readFilters());
  });
  for (const id of ["mode-changed", "mode-all"]) $(id).addEventListener("change", () => lineageView.apply(readFilters()));
  $("add-lineage-check").addEventListener("click", actions.addLineageCheck);
  $("pick-add").addEventListener("click", actions.addPickedCheck);
  $("pick-clear").addEventListener("click", () => store.set({ picked: [] }));
  $("find").addEventListener("keydown", (e) => {
    if (e.key !== "Enter") return;
    e.preventDefault();
    const hit = lineageView.find(e.target.value);
    store.set({ selectError: hit ? null : `No shown node matches “${e.target.value}”.` });
    if (hit) actions.openNode(hit, { center: true });
  });
  $("list-search").addEventListener("input", (e) => store.set({ listQuery: e.target.value }));
  $("list-sort").addEventListener("change", (e) => store.set({ listSort: e.target.value }));
  for (const side of ["changed", "checks", "runs"]) $(`tab-${side}`).addEventListener("click", () => store.set({ side }));
  $("zoom-in").addEventListener("click", () => lineageView.graph.zoomBy(1.3));
  $("zoom-out").addEventListener("click", () => lineageView.graph.zoomBy(1 / 1.3));
  $("zoom-fit").addEventListener("click", () => lineageView.graph.fit());
  bindKeys();
}

/**
 * Show the review: `health`, the server's (ready); `lineage`, the lineage on its way
 * (lineage-data.js); `marks`, the page's timings, which this module adds to.
 */
export async function startReview(health, { lineage, marks }) {
  timings = marks;
  showView("review");
  $("single-env").hidden = !health.single_env;
  if (health.single_env === undefined) api.health().then((h) => ($("single-env").hidden = !h.single_env), () => {});
  wire();
  connectWs();
  // While the Runs tab is shown, keep its list current (runs started elsewhere, e.g. the CLI
  // or another browser, and the status of running ones).
  setInterval(() => {
    if (document.visibilityState === "visible" && store.get().side === "runs") loadRuns();
  }, 3000);
  store.set({ group: queryToState(location.search, {}).group }); // drawn grouped from the first frame
  if (!store.get().lineage) {
    $("graph-status").textContent = "Loading the lineage…";
    $("graph-status").hidden = false;
  }
  try {
    await loadInfo(lineage, firstView);
  } catch (err) {
    $("graph-status").textContent = `Could not load the lineage: ${err.message}`;
    $("graph-status").hidden = false;
    return;
  }
  timings.infoLoaded = performance.now();
  const panelsShown = loadPanels();
  const hasDiff = Object.keys(store.get().lineage.impact).length > 0;
  if (!hasDiff) store.set({ side: "checks" });
  renderSide(store.get());
  const project = projectName();
  const packages = project ? [project] : undefined;
  const wanted = queryToState(location.search, { packages });
  const first = wanted.selection ?? { packages, view_mode: hasDiff ? "changed_models" : "all" };
  // The rest of the view the URL names now, with the first view, before the reader acts on
  // it (the server's answer to the selection comes later).
  restoreView(wanted);
  // The next requests once the views' scripts are in, when the first view is drawn already
  // (else it is the selection's): the first selection is the server's slowest request after
  // ready (~0.5 s of Python at 5,000 models), which would hold up its answers to them.
  if (lineageView.provisional) await panelsShown;
  loadChecks();
  loadRuns();
  // Like Recce: if the changed-models selection fails, fall back to the whole lineage.
  if (!(await lineageView.apply(first)) && !wanted.selection && hasDiff) await lineageView.apply({ packages, view_mode: "all" });
  lineageView.revealOpen(store.get()); // the open node, now that the selection is drawn
  bindUrl(store, (search) => restore(search));
  history.replaceState(null, "", `${location.pathname}${stateToQuery(store.get())}`);
}

/** What window.recce (app.js) reads: the page's state, for tests and benchmarks. */
export const inspect = {
  store,
  registerResultView: (type, view) => panelsModule.then((module) => module.registerResultView(type, view)),
  metrics() {
    const graph = lineageView?.graph;
    return { ...(lineageView?.metrics ?? {}), ...timings, legible: graph?.legible ?? false, paintedAt: graph?.firstLegibleAt ?? null, frameAt: graph?.firstLegibleFrame?.at ?? null, frameMs: graph?.firstLegibleFrame?.ms ?? null };
  },
  lineage: () => store.get().lineage,
  graph: () => lineageView?.graph ?? null,
  select: (id) => actions.openNode(id),
  screenPosition: (id) => lineageView?.graph.screenPosition(id) ?? null,
  shownIds: () => [...(store.get().shown?.ids ?? [])],
};
