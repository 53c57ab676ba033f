// The URL holds the view, so a link restores it: ?mode=&select=&exclude=&packages= (the
// lineage selection), node= / check= / run= / query= (the open panel), tab=, diff=, code= (the node
// panel's tab and diff view), pick= (the multi-node selection), side= (the left column),
// group=folder (the lineage grouped by folder) or group=chains (unchanged chains folded).
// Opening, closing and selecting push a history entry; view tweaks replace the current one.

const NAV_KEYS = ["selection", "panel", "picked"];
const URL_KEYS = [...NAV_KEYS, "nodeTab", "codeView", "codeSide", "side", "group"];

export function stateToQuery(state) {
  const q = new URLSearchParams();
  const sel = state.selection;
  if (sel) {
    q.set("mode", sel.view_mode === "changed_models" ? "changed" : "all");
    if (sel.select) q.set("select", sel.select);
    if (sel.exclude) q.set("exclude", sel.exclude);
    if (sel.packages?.length) q.set("packages", sel.packages.join(","));
  }
  if (state.panel) q.set(state.panel.kind, state.panel.id);
  if (state.panel?.kind === "node") {
    if (state.nodeTab !== "schema") q.set("tab", state.nodeTab);
    if (state.codeView !== "unified") q.set("diff", state.codeView);
    if (state.codeSide !== "raw") q.set("code", state.codeSide);
  }
  if (state.picked.length) q.set("pick", state.picked.join(","));
  if (state.side) q.set("side", state.side);
  if (state.group) q.set("group", state.group);
  const text = q.toString();
  return text ? `?${text}` : "";
}

/** The view a URL asks for; keys it does not mention are absent (keep the defaults). */
export function queryToState(search, defaults) {
  const q = new URLSearchParams(search);
  const out = {};
  if (q.has("mode") || q.has("select") || q.has("exclude") || q.has("packages")) {
    const sel = { view_mode: q.get("mode") === "all" ? "all" : "changed_models" };
    if (q.get("select")) sel.select = q.get("select");
    if (q.get("exclude")) sel.exclude = q.get("exclude");
    const packages = (q.get("packages") ?? "").split(",").filter(Boolean);
    if (packages.length) sel.packages = packages;
    else if (defaults.packages) sel.packages = defaults.packages;
    out.selection = sel;
  }
  out.panel = null;
  for (const kind of ["node", "check", "run", "query"]) if (q.get(kind)) out.panel = { kind, id: q.get(kind) };
  out.nodeTab = ["code", "config"].includes(q.get("tab")) ? q.get("tab") : "schema";
  out.codeView = q.get("diff") === "split" ? "split" : "unified";
  out.codeSide = q.get("code") === "compiled" ? "compiled" : "raw";
  out.picked = (q.get("pick") ?? "").split(",").filter(Boolean);
  if (["changed", "checks", "runs"].includes(q.get("side"))) out.side = q.get("side");
  out.group = ["folder", "chains"].includes(q.get("group")) ? q.get("group") : null;
  return out;
}

/** Keep the URL in step with the store; `onPop(partialState)` restores a history entry. */
export function bindUrl(store, onPop) {
  store.subscribe(URL_KEYS, (state, previous, changed) => {
    if (!state.selection) return; // not showing the review yet
    const query = stateToQuery(state);
    if (query === location.search) return;
    const url = `${location.pathname}${query}${location.hash}`;
    const navigation = previous.selection !== null && NAV_KEYS.some((key) => changed.has(key));
    if (navigation) history.pushState(null, "", url);
    else history.replaceState(null, "", url);
  });
  window.addEventListener("popstate", () => onPop(location.search));
}
