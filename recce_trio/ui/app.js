// recce-trio's review page: the entry. While the server loads the artifacts only this and
// what it imports run (the progress: startup.js), with the data worker, which asks for
// /api/info at once: the server answers it the moment it is ready. The review itself
// (review.js and its modules) is loaded once it has answered, and the rest (panels.js, the
// layout worker) once the first view is on screen: the page usually opens on the machine the
// server loads on, where each script and request before ready takes CPU from the load
// (docs/ui.md, "Page-load figures").

import { preload } from "./dom.js";
import { askEarly } from "./lineage-data.js";
import { waitForServer } from "./startup.js";

// review.js and the modules it imports that this one has not: asked for all at once when the
// server is ready, rather than a level of imports at a time (tests/unit/test_ui_modules.py
// checks the list).
export const FIRST_VIEW = ["review.js", "actions.js", "store.js", "changed-list.js", "lineage-view.js", "graph.js", "chains.js", "groups.js", "minimap.js"];

const timings = { start: performance.now() };
const early = askEarly(timings);
let review = null; // review.js's `inspect`, once loaded
let loaded; // resolves to it
const loading = new Promise((resolve) => (loaded = resolve));

// The page's state for tests and benchmarks (and `registerResultView` for other result
// views: registered once the review is loaded).
window.recce = {
  get store() {
    return review?.store ?? null;
  },
  registerResultView: (type, view) => loading.then((inspect) => inspect.registerResultView(type, view)),
  app: {
    get metrics() {
      return review?.metrics() ?? { ...timings, legible: false, paintedAt: null, frameAt: null, frameMs: null };
    },
    get lineage() {
      return review?.lineage() ?? null;
    },
  },
  get graph() {
    return review?.graph() ?? null;
  },
  select: (id) => review?.select(id),
  screenPosition: (id) => review?.screenPosition(id) ?? null,
  shownIds: () => review?.shownIds() ?? [],
};

async function main() {
  const health = await waitForServer(early.answered);
  timings.readyAt = performance.now();
  if (health) {
    preload(FIRST_VIEW);
    const modules = import("./review.js");
    // Number formatting loads the locale's data on first use, tens of milliseconds: made
    // while the review's modules load, not on the way to the first view ("3,545 nodes").
    (0).toLocaleString();
    const { startReview, inspect } = await modules;
    timings.modulesAt = performance.now();
    review = inspect;
    loaded(inspect);
    await startReview(health, { lineage: early.lineage, marks: timings });
  }
  document.body.dataset.ready = "true";
}

main();
