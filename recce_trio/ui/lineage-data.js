// Getting the lineage: /api/info is fetched, parsed and slimmed in a worker (info-worker.js),
// and asked for as soon as the page runs, not once health says ready: the server holds /api/*
// until the artifacts are loaded and answers the moment they are, so the review waits neither
// for the next health poll nor for the worker to start (a worker costs little CPU while the
// server loads; the review's modules are loaded once it has answered: app.js).

import { NODE_H, NODE_W } from "./graph-paint.js";
import { queryToState } from "./router.js";

/**
 * `{lineage, answered}`: the slimmed lineage ({info, lineage, ms, bytes, at}; then
 * `timings.infoReceivedAt` is set), and a promise resolved as soon as /api/info has answered
 * with success (its body is on its way: the server is ready).
 */
export function loadLineage(timings) {
  let answered;
  const ok = new Promise((resolve) => (answered = resolve));
  const lineage = new Promise((resolve, reject) => {
    const worker = new Worker("/info-worker.js");
    worker.onmessage = (event) => {
      if (event.data.answered) return answered();
      timings.infoReceivedAt = performance.now();
      worker.terminate();
      const data = event.data;
      if (data.error) return reject(new Error(data.error));
      const { packed, ...lineage } = data.lineage;
      resolve({ ...data, lineage: { ...lineage, nodes: unpack(lineage.ids, packed) } });
      timings.infoUnpackedAt = performance.now();
    };
    worker.onerror = (event) => {
      worker.terminate();
      reject(new Error(event.message || "the page's data worker failed"));
    };
    worker.postMessage({ width: NODE_W, height: NODE_H }); // to lay out the first view
  });
  return { lineage, answered: ok };
}

/** The node objects (`lineage.nodes`) from the columns info-worker.js sends. */
function unpack(ids, { names, strings, codes, columns }) {
  const { resource_type: type, package_name: pkg, folder, materialized, change_status: status, category } = codes;
  const text = (code) => (code < 0 ? null : strings[code]);
  const nodes = {};
  for (let i = 0; i < ids.length; i++) {
    nodes[ids[i]] = {
      name: names[i],
      resource_type: text(type[i]),
      package_name: text(pkg[i]) ?? "",
      folder: text(folder[i]),
      materialized: text(materialized[i]),
      change_status: text(status[i]),
      columns_changed: columns[ids[i]] ?? null,
      category: text(category[i]),
    };
  }
  return nodes;
}

/**
 * The lineage, asked for now: `{lineage, answered}` (loadLineage). Not the first selection
 * (`/api/select`): the first view is drawn from the lineage without it, and the server's
 * first selection is its slowest request after ready (~0.5 s of Python at 5,000 models), so
 * it is asked once that view is set, rather than beside the lineage, on the same cores.
 */
export function askEarly(timings) {
  const early = loadLineage(timings);
  early.lineage.catch(() => {}); // reported when the review awaits it
  return early;
}

const urlSelects = () => !!queryToState(location.search, {}).selection;

export const projectOf = (lineage) =>
  lineage?.metadata?.current?.manifest_metadata?.project_name ?? lineage?.metadata?.base?.manifest_metadata?.project_name ?? null;

/**
 * The first view when the URL asks for none: Recce's changed models as the lineage tells
 * them ({sel, ids, edges: index pairs into ids, xy: their layout or null}; info-worker.js),
 * drawn before /api/select answers; null when there is nothing changed.
 */
export function changedModels(lineage) {
  const first = lineage.first;
  if (urlSelects() || !first?.view.length) return null;
  const project = projectOf(lineage);
  const sel = { packages: project ? [project] : undefined, view_mode: "changed_models" };
  const edges = new Array(first.edges.length / 2);
  for (let e = 0; e < edges.length; e++) edges[e] = [first.edges[2 * e], first.edges[2 * e + 1]];
  return { sel, ids: Array.from(first.view, (i) => lineage.ids[i]), edges, xy: first.xy };
}
