// While the server starts: each artifact's progress from GET /api/health, then the review, or
// an explanation of why the start failed. Health names no files (probes read it too), so the
// page calls each artifact by its role; the server log gives the paths.

import { api } from "./api.js";
import { $, formatBytes, h } from "./dom.js";

const ARTIFACTS = [
  ["curr_manifest", "Current manifest"],
  ["curr_catalog", "Current catalog"],
  ["base_manifest", "Base manifest"],
  ["base_catalog", "Base catalog"],
];

// What each startup error class means for the user. The server log has the path and the cause.
export const STARTUP_ERRORS = {
  ArtifactNotFoundError: {
    title: "A dbt artifact is missing",
    text: "A manifest.json the server needs was not found. Build both environments: run `dbt docs generate` on the base branch into the base target folder and on your branch into the current one, then start the server again.",
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
    text: "An artifact path exists but could not be read: it may be a folder or another special file (a FIFO, a device) rather than a regular file, lack read permission, or the disk reported an error. Fix the file's permissions or path and restart.",
  },
  StartupTimeoutError: {
    title: "Loading took too long",
    text: "The artifacts did not load within the startup timeout. Raise it with --startup-timeout (or RECCE_STARTUP_TIMEOUT), or check that the artifact files are on a fast, reachable disk.",
  },
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function showView(name) {
  if (document.body.dataset.view === name) return;
  for (const view of ["loading", "failed", "review"]) $(view).hidden = view !== name;
  document.body.dataset.view = name;
}

/** Set an element's text only when it changes: a poll that changes nothing
 * costs the page no style or layout work (the server is loading on the same machine). */
function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function renderProgress(health, elapsedS) {
  const rows = $("progress-rows");
  if (!rows.children.length) {
    for (const [key, label] of ARTIFACTS) {
      rows.append(
        h("tr", { class: "artifact", dataset: { artifact: key } },
          h("td", {}, h("span", { class: "state-dot" })),
          h("td", {}, label),
          h("td", { class: "state" }),
          h("td", { class: "muted small" }),
        ),
      );
    }
  }
  ARTIFACTS.forEach(([key], i) => {
    const a = health.artifacts?.[key] ?? { state: "pending" };
    const detail = [formatBytes(a.bytes), a.seconds != null ? `${a.seconds.toFixed(2)} s` : "", a.error ?? ""]
      .filter(Boolean).join(" · ");
    const row = rows.children[i];
    if (row.dataset.state !== a.state) {
      row.className = `artifact ${a.state}`;
      row.dataset.state = a.state;
    }
    setText(row.children[2], a.state === "missing" ? "missing (optional)" : a.state);
    setText(row.children[3], detail);
  });
  setText($("loading-elapsed"), `${elapsedS.toFixed(0)} s`);
  setText($("loading-single-env"), "No base environment (--target-base-path) was found: base and current are the same, so nothing will show as changed.");
  if ($("loading-single-env").hidden !== !health.single_env) $("loading-single-env").hidden = !health.single_env;
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
  $("failed-text").replaceChildren(...text.split("`").map((part, i) => (i % 2 ? h("code", {}, part) : part)));
  const rows = $("failed-artifacts");
  rows.replaceChildren();
  const timedOut = health.error === "StartupTimeoutError";
  for (const [key, label] of ARTIFACTS) {
    const a = health.artifacts?.[key];
    if (!a) continue;
    // After a timeout, the artifacts still loading were stopped (their error names the
    // timeout, StartupTimeoutError): say so in words.
    const unfinished = timedOut && ["pending", "loading"].includes(a.state);
    if (a.state !== "failed" && !unfinished) continue;
    if (timedOut && (unfinished || !a.error || a.error === "StartupTimeoutError")) {
      rows.append(h("li", { dataset: { artifact: key } }, `${label}: still loading when the timeout ran out`));
    } else {
      rows.append(h("li", { dataset: { artifact: key } }, `${label}: `, h("code", {}, a.error ?? "failed")));
    }
  }
}

// Health polls while the server loads: the first at once, then less and less often (the
// page and the server share the machine's cores, and the progress shown needs no more). The
// review does not wait for a poll: `arrived` ends the wait.
const POLL_FIRST_MS = 250;
const POLL_GROWTH = 1.5;
const POLL_MAX_MS = 1000;

/**
 * Poll health until ready (returns it) or failed (shows why, returns null), every 250 ms at
 * first, backing off to once a second. `arrived`, if given, resolves when the review's data,
 * asked for early, has been answered (the server answers it the moment it is ready): when it
 * resolves first, the wait ends then rather than at the next poll (or the answer to a poll on
 * its way), and the last health seen is returned with `ready: true`.
 */
export async function waitForServer(arrived = null) {
  const started = performance.now();
  let here = false;
  const wake = new Promise((resolve) => arrived?.then(() => { here = true; resolve(); }, () => {}));
  const pause = (ms) => Promise.race([sleep(ms), wake]);
  let last = null;
  let interval = POLL_FIRST_MS;
  for (;;) {
    if (here) return { ...last, ready: true };
    let health;
    try {
      health = await Promise.race([api.health(), wake.then(() => null)]);
      if (here) return { ...last, ready: true };
      if (!$("loading-offline").hidden) $("loading-offline").hidden = true;
    } catch {
      $("loading-offline").hidden = false;
      await pause(1000);
      continue;
    }
    last = health;
    if (health.ready) return health;
    if (health.error || (health.phase && !["starting", "ready"].includes(health.phase))) {
      renderFailed(health);
      return null;
    }
    showView("loading");
    renderProgress(health, (performance.now() - started) / 1000);
    await pause(interval);
    interval = Math.min(interval * POLL_GROWTH, POLL_MAX_MS);
  }
}
