// recce-trio's review page: startup progress, then lineage, node details and the checklist.

import { api } from "./api.js";
import { Checklist } from "./checks.js";
import { h, nodePanel, statusOf } from "./details.js";
import { GraphView, NODE_H, NODE_W } from "./graph.js";

const ARTIFACTS = [
  ["curr_manifest", "Current manifest", "target/manifest.json"],
  ["curr_catalog", "Current catalog", "target/catalog.json"],
  ["base_manifest", "Base manifest", "target-base/manifest.json"],
  ["base_catalog", "Base catalog", "target-base/catalog.json"],
];

// What each startup error class means for the user. The server log has the path and the cause.
export const STARTUP_ERRORS = {
  ArtifactNotFoundError: {
    title: "A dbt artifact is missing",
    text: "A manifest.json the server needs was not found. Build both environments: run `dbt docs generate` on the base branch into target-base/ and on your branch into target/, then start the server again.",
  },
  ArtifactDecodeError: {
    title: "An artifact is not valid JSON",
    text: "A manifest or catalog file is empty, truncated or not JSON (often a dbt run that was interrupted while writing it). Run `dbt docs generate` again for that environment and restart the server.",
  },
  NotADbtArtifactError: {
    title: "A file is not a dbt artifact",
    text: "A file at a manifest or catalog path is JSON but not a dbt manifest or catalog. Check --target-path and --target-base-path point at dbt target folders.",
  },
  UnsupportedSchemaVersionError: {
    title: "Unsupported dbt artifact version",
    text: "An artifact was written by a dbt version whose schema version recce-trio cannot read (for example a newer dbt). Regenerate it with a supported dbt version, or upgrade recce-trio.",
  },
  ArtifactReadError: {
    title: "An artifact could not be read",
    text: "An artifact path exists but could not be read: it may be a folder, lack read permission, or the disk reported an error. Fix the file's permissions or path and restart.",
  },
  StartupTimeoutError: {
    title: "Loading took too long",
    text: "The artifacts did not load within the startup timeout. Raise it with --startup-timeout (or RECCE_STARTUP_TIMEOUT), or check that the artifact files are on a fast, reachable disk.",
  },
};

const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const app = {
  info: null,
  lineage: null,
  projectName: null,
  selection: null, // the /api/select body of what is shown
  shownIds: [],
  panel: null, // {kind: "node"|"check", id}
  picked: [], // node ids selected (shift-click) for one schema diff check, in pick order
  layoutCache: new Map(),
  drawSeq: 0,
  singleEnv: false,
  metrics: {},
};

function showView(name) {
  for (const view of ["loading", "failed", "review"]) $(view).hidden = view !== name;
  document.body.dataset.view = name;
}

// ---- startup ----

function formatBytes(n) {
  if (n === null || n === undefined) return "";
  if (n < 1024) return `${n} B`;
  const units = ["kB", "MB", "GB"];
  let v = n, u = -1;
  do { v /= 1024; u++; } while (v >= 1024 && u < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

function renderProgress(health, elapsedS) {
  const rows = $("progress-rows");
  rows.replaceChildren();
  for (const [key, label, path] of ARTIFACTS) {
    const a = health.artifacts?.[key] ?? { state: "pending" };
    const detail = [formatBytes(a.bytes), a.seconds != null ? `${a.seconds.toFixed(2)} s` : "", a.error ?? ""]
      .filter(Boolean).join(" · ");
    rows.append(
      h("tr", { class: `artifact ${a.state}`, dataset: { artifact: key, state: a.state } },
        h("td", {}, h("span", { class: "state-dot" })),
        h("td", {}, label, h("div", { class: "muted small" }, path)),
        h("td", { class: "state" }, a.state === "missing" ? "missing (optional)" : a.state),
        h("td", { class: "muted small" }, detail),
      ),
    );
  }
  $("loading-elapsed").textContent = `${elapsedS.toFixed(0)} s`;
  $("loading-single-env").hidden = !health.single_env;
}

function renderFailed(health) {
  showView("failed");
  const known = STARTUP_ERRORS[health.error];
  let title, text;
  if (known) ({ title, text } = known);
  else if (health.phase === "stopped") {
    title = "The server is shutting down";
    text = "It stopped before the artifacts were loaded. Start it again.";
  } else {
    title = "The server could not start";
    text = "Loading the dbt artifacts failed.";
  }
  $("failed-title").textContent = title;
  $("failed-class").textContent = health.error ?? health.phase ?? "unknown";
  // `command` in the explanations becomes <code>.
  $("failed-text").replaceChildren(
    ...text.split("`").map((part, i) => (i % 2 ? h("code", {}, part) : part)),
  );
  const rows = $("failed-artifacts");
  rows.replaceChildren();
  const timedOut = health.error === "StartupTimeoutError";
  for (const [key, label, path] of ARTIFACTS) {
    const a = health.artifacts?.[key];
    if (!a) continue;
    // After a timeout, the artifacts still loading were stopped ("Cancelled"): say so in words.
    const unfinished = timedOut && ["pending", "loading"].includes(a.state);
    if (a.state !== "failed" && !unfinished) continue;
    if (timedOut && (unfinished || !a.error || a.error === "Cancelled")) {
      rows.append(h("li", { dataset: { artifact: key } }, `${label} (${path}): still loading when the timeout ran out`));
    } else {
      rows.append(h("li", { dataset: { artifact: key } }, `${label} (${path}): `, h("code", {}, a.error ?? "failed")));
    }
  }
}

async function waitForServer() {
  const started = performance.now();
  for (;;) {
    let health;
    try {
      health = await api.health();
      $("loading-offline").hidden = true;
    } catch {
      $("loading-offline").hidden = false;
      await sleep(1000);
      continue;
    }
    if (health.ready) {
      app.singleEnv = !!health.single_env;
      return true;
    }
    if (health.error || (health.phase && !["starting", "ready"].includes(health.phase))) {
      renderFailed(health);
      return false;
    }
    showView("loading");
    renderProgress(health, (performance.now() - started) / 1000);
    await sleep(250);
  }
}

// ---- lineage ----

function allNodeIds(lineage) {
  const ids = new Set(Object.keys(lineage.current.nodes));
  for (const id of Object.keys(lineage.base.nodes)) ids.add(id);
  return ids;
}

async function loadInfo() {
  const info = await api.info();
  app.info = info;
  app.lineage = info.lineage;
  const meta = info.lineage.current?.manifest_metadata ?? info.lineage.base?.manifest_metadata ?? {};
  app.projectName = meta.project_name ?? null;
  const bits = [app.projectName, info.git?.branch ? `branch ${info.git.branch}` : null, meta.dbt_version ? `dbt ${meta.dbt_version}` : null];
  $("project").textContent = bits.filter(Boolean).join(" · ");
  const counts = { added: 0, removed: 0, modified: 0 };
  for (const d of Object.values(info.lineage.diff ?? {})) counts[d.change_status] = (counts[d.change_status] ?? 0) + 1;
  $("summary").replaceChildren(
    ...Object.entries(counts).map(([s, n]) => h("span", { class: `badge ${s}` }, `${n} ${s}`)),
  );
  $("single-env").hidden = !app.singleEnv;
  app.layoutCache.clear();
  // Drop picked nodes that are in neither environment any more (kept if only filtered out).
  const known = allNodeIds(info.lineage);
  if (app.picked.some((id) => !known.has(id))) {
    app.picked = app.picked.filter((id) => known.has(id));
    if (app.graph) renderPicked();
  }
}

function readFilters() {
  const select = $("f-select").value.trim();
  const exclude = $("f-exclude").value.trim();
  const packages = $("f-packages").value.split(/[\s,]+/).filter(Boolean);
  const body = { view_mode: $("mode-changed").checked ? "changed_models" : "all" };
  if (select) body.select = select;
  if (exclude) body.exclude = exclude;
  if (packages.length) body.packages = packages;
  return body;
}

function writeFilters(sel) {
  $("f-select").value = sel.select ?? "";
  $("f-exclude").value = sel.exclude ?? "";
  $("f-packages").value = (sel.packages ?? []).join(", ");
  $("mode-changed").checked = sel.view_mode === "changed_models";
  $("mode-all").checked = sel.view_mode !== "changed_models";
}

function showSelectError(message) {
  const el = $("select-error");
  el.textContent = message ?? "";
  el.hidden = !message;
}

async function applySelection(sel, { quiet = false } = {}) {
  let result;
  try {
    result = await api.select(sel);
  } catch (err) {
    showSelectError(err.message);
    return false;
  }
  showSelectError(null);
  app.selection = sel;
  writeFilters(sel);
  const known = allNodeIds(app.lineage);
  app.shownIds = (result.nodes ?? []).filter((id) => known.has(id));
  await drawSelection(quiet);
  return true;
}

function edgesFor(ids) {
  const index = new Map(ids.map((id, i) => [id, i]));
  const seen = new Set();
  const edges = [];
  for (const side of [app.lineage.current, app.lineage.base]) {
    for (const [child, parents] of Object.entries(side.parent_map ?? {})) {
      const t = index.get(child);
      if (t === undefined) continue;
      for (const parent of parents) {
        const s = index.get(parent);
        if (s === undefined || s === t) continue;
        const key = s * 1e6 + t;
        if (seen.has(key)) continue;
        seen.add(key);
        edges.push([s, t]);
      }
    }
  }
  return edges;
}

let worker = null;
let pending = null;
/** Node centres from dagre in a worker; null if a newer layout replaced this one. */
function layout(ids, edges) {
  const key = `${ids.length}:${ids.join("|")}`;
  const cached = app.layoutCache.get(key);
  if (cached) return Promise.resolve({ xy: cached, ms: 0, cached: true });
  if (pending) {
    // A layout of a large selection can take seconds; don't queue behind one nobody wants.
    worker.terminate();
    worker = null;
    pending(null);
  }
  worker ??= new Worker("/layout-worker.js");
  return new Promise((resolve) => {
    pending = resolve;
    worker.onmessage = (event) => {
      pending = null;
      app.layoutCache.set(key, event.data.xy);
      resolve({ xy: event.data.xy, ms: event.data.ms, cached: false });
    };
    worker.onerror = (event) => {
      pending = null;
      resolve({ error: event.message || "the layout worker failed" });
    };
    worker.postMessage({ nodes: ids.map((uid) => [uid, NODE_W, NODE_H]), edges });
  });
}

async function drawSelection(quiet) {
  const ids = [...app.shownIds];
  const status = $("graph-status");
  if (!ids.length) {
    app.graph.setGraph([], []);
    status.textContent = app.selection?.view_mode === "changed_models"
      ? "No changed models in this selection. Switch to “All” to see the whole lineage."
      : "No nodes match this selection.";
    status.hidden = false;
    return;
  }
  const edges = edgesFor(ids);
  const seq = ++app.drawSeq;
  const started = performance.now();
  if (!quiet || ids.length > 300) {
    status.textContent = `Laying out ${ids.length.toLocaleString()} nodes…`;
    status.hidden = false;
  }
  const result = await layout(ids, edges);
  if (result === null || seq !== app.drawSeq) return; // a newer selection superseded this one
  if (result.error) {
    status.textContent = `Could not lay out the graph: ${result.error}`;
    return;
  }
  const { xy, ms, cached } = result;
  const lineage = app.lineage;
  const nodes = ids.map((id, i) => {
    const node = lineage.current.nodes[id] ?? lineage.base.nodes[id];
    return { id, label: node.name, resourceType: node.resource_type, status: statusOf(lineage, id), x: xy[2 * i], y: xy[2 * i + 1] };
  });
  app.graph.setGraph(nodes, edges);
  status.hidden = true;
  app.metrics = { nodes: ids.length, edges: edges.length, layoutMs: ms, totalMs: performance.now() - started, cached };
  $("graph-count").textContent = `${ids.length.toLocaleString()} nodes · ${edges.length.toLocaleString()} edges`;
  if (app.panel?.kind === "node") {
    if (lineage.current.nodes[app.panel.id] || lineage.base.nodes[app.panel.id]) openNode(app.panel.id);
    else closePanel();
  }
}

// ---- side panel ----

function closePanel() {
  app.panel = null;
  $("panel").hidden = true;
  $("panel").replaceChildren();
  app.graph.select(null);
  if (app.checklist.openId) {
    app.checklist.openId = null;
    app.checklist.render();
  }
  document.body.classList.remove("with-panel");
}

function showPanel(content) {
  $("panel").replaceChildren(content);
  $("panel").hidden = false;
  document.body.classList.add("with-panel");
}

function openNode(id) {
  if (!id) {
    closePanel();
    return;
  }
  app.panel = { kind: "node", id };
  app.checklist.openId = null;
  app.checklist.render();
  app.graph.select(id);
  showPanel(nodePanel(app.lineage, id, {
    onAddSchemaCheck: addSchemaCheck,
    onClose: closePanel,
    picked: app.picked.includes(id),
    onPick: setPicked,
  }));
}

// ---- multi-node selection for one schema diff check ----

const nodeName = (id) => (app.lineage.current.nodes[id] ?? app.lineage.base.nodes[id])?.name ?? id;

function setPicked(id, on = !app.picked.includes(id)) {
  app.picked = app.picked.filter((p) => p !== id);
  if (on) app.picked.push(id);
  renderPicked();
}

function renderPicked() {
  const ids = app.picked;
  app.graph.setPicked(ids);
  $("pick-hint").hidden = ids.length > 0;
  $("pick-chosen").hidden = ids.length === 0;
  $("pick-count").textContent = `${ids.length} selected:`;
  $("pick-list").replaceChildren(
    ...ids.map((id) =>
      h("span", { class: "chip", dataset: { nodeId: id }, title: id },
        nodeName(id),
        h("button", { class: "icon", title: `Remove ${nodeName(id)} from the selection`, onclick: () => setPicked(id, false) }, "×"),
      ),
    ),
  );
  $("pick-add").textContent = ids.length === 1 ? "Add schema diff check" : `Add schema diff check of ${ids.length} nodes`;
  const box = document.querySelector("#panel .node-panel input.pick");
  if (box) box.checked = ids.includes(box.closest(".node-panel").dataset.nodeId);
}

async function addPickedSchemaCheck() {
  if (!app.picked.length) return;
  if (await addSchemaCheck([...app.picked])) {
    app.picked = [];
    renderPicked();
  }
}

function openCheck(check) {
  app.panel = { kind: "check", id: check.check_id };
  app.graph.select(null);
  showPanel(app.checklist.panel(check, { onClose: closePanel }));
}

/** One schema_diff check of one node id or a list of them. */
async function addSchemaCheck(nodeIds) {
  const ids = [nodeIds].flat();
  const names = ids.map(nodeName);
  const shown = names.length > 3 ? `${names.slice(0, 2).join(", ")} and ${names.length - 2} more` : names.join(", ");
  return app.checklist.add({
    name: `Schema diff of ${shown}`,
    type: "schema_diff",
    params: { node_id: ids },
  });
}

async function addLineageCheck() {
  const sel = app.selection ?? readFilters();
  const what = sel.select ? `of ${sel.select}` : sel.view_mode === "changed_models" ? "of the changed models" : "of the whole project";
  await app.checklist.add({ name: `Lineage diff ${what}`, type: "lineage_diff", params: { ...sel } });
}

function findNode(text) {
  const q = text.trim().toLowerCase();
  if (!q) return;
  const lineage = app.lineage;
  const nameOf = (id) => (lineage.current.nodes[id] ?? lineage.base.nodes[id]).name.toLowerCase();
  const hit = app.shownIds.find((id) => id.toLowerCase() === q || nameOf(id) === q)
    ?? app.shownIds.find((id) => nameOf(id).includes(q));
  if (!hit) {
    showSelectError(`No shown node matches “${text}”.`);
    return;
  }
  showSelectError(null);
  app.graph.select(hit, { center: true });
  openNode(hit);
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
async function refresh() {
  // Coalesce bursts of file events into one re-fetch.
  if (refreshing) return refreshing;
  refreshing = (async () => {
    try {
      await loadInfo();
      await applySelection(app.selection ?? readFilters(), { quiet: true });
      await app.checklist.load();
      if (app.panel?.kind === "check") {
        const check = app.checklist.checks.find((c) => c.check_id === app.panel.id);
        if (check) openCheck(check);
      }
      app.metrics.refreshes = (app.metrics.refreshes ?? 0) + 1;
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

// ---- wiring ----

async function startReview() {
  showView("review");
  app.graph = new GraphView($("graph"), {
    onSelect: openNode,
    onPick: (id) => {
      setPicked(id);
      openNode(id);
    },
  });
  app.checklist = new Checklist($("checks-list"), {
    onOpen: openCheck,
    onError: toast,
    getLineage: () => app.lineage,
    onShowLineage: (params) => applySelection({ ...params }),
  });
  $("filters").addEventListener("submit", (e) => {
    e.preventDefault();
    applySelection(readFilters());
  });
  for (const id of ["mode-changed", "mode-all"]) $(id).addEventListener("change", () => applySelection(readFilters()));
  $("add-lineage-check").addEventListener("click", addLineageCheck);
  $("pick-add").addEventListener("click", addPickedSchemaCheck);
  $("pick-clear").addEventListener("click", () => {
    app.picked = [];
    renderPicked();
  });
  $("find").addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      findNode(e.target.value);
    }
  });
  $("zoom-in").addEventListener("click", () => app.graph.zoomBy(1.3));
  $("zoom-out").addEventListener("click", () => app.graph.zoomBy(1 / 1.3));
  $("zoom-fit").addEventListener("click", () => app.graph.fit());
  connectWs();
  try {
    await loadInfo();
  } catch (err) {
    $("graph-status").textContent = `Could not load the lineage: ${err.message}`;
    $("graph-status").hidden = false;
    return;
  }
  app.checklist.load();
  const packages = app.projectName ? [app.projectName] : undefined;
  const hasDiff = Object.keys(app.lineage.diff ?? {}).length > 0;
  const first = { packages, view_mode: hasDiff ? "changed_models" : "all" };
  // Like Recce: if the changed-models selection fails, fall back to the whole lineage.
  if (!(await applySelection(first)) && hasDiff) await applySelection({ packages, view_mode: "all" });
}

async function main() {
  window.recce = {
    app,
    select: (id) => openNode(id),
    screenPosition: (id) => app.graph?.screenPosition(id) ?? null,
    shownIds: () => [...app.shownIds],
  };
  if (await waitForServer()) await startReview();
  document.body.dataset.ready = "true";
}

main();
