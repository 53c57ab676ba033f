// The runs panel (left column): every run, newest first, with type, status, when and how
// long; and the run view (side panel): parameters, progress with Cancel while it runs, and
// the result by type.

import { ago, formatSeconds, h } from "./dom.js";
import { typeLabel } from "./checks.js";
import { renderRunResult } from "./results.js";

/** Seconds a run took: the server's figure if it gives one, else what this page saw. */
export function runDuration(run, seen) {
  if (typeof run.duration === "number") return run.duration;
  if (run.finished_at) return (Date.parse(run.finished_at) - Date.parse(run.run_at)) / 1000;
  return seen?.[run.run_id] ?? null;
}

export function renderRunList(listEl, { runs, openId, durations }, actions) {
  listEl.replaceChildren();
  document.getElementById("runs-count").textContent = runs.length ? `${runs.length}` : "";
  if (!runs.length) {
    listEl.append(h("li", { class: "empty muted" }, "No runs yet. Running a check records one here."));
    return;
  }
  for (const run of runs) {
    const status = (run.status ?? "unknown").toLowerCase();
    listEl.append(h("li", {
        class: `run-item${run.run_id === openId ? " open" : ""}`,
        dataset: { runId: run.run_id, status },
        onclick: () => actions.openRun(run.run_id),
      },
      h("span", { class: `run-status ${status}`, title: run.status ?? "" }, run.status ?? "?"),
      h("span", { class: "check-text" },
        h("span", { class: "check-name" }, run.name || typeLabel(run.type)),
        h("span", { class: "check-type" },
          typeLabel(run.type), " · ", h("span", { title: run.run_at }, ago(run.run_at)),
          " · ", h("span", { class: "duration" }, run.status === "Running" ? "running" : formatSeconds(runDuration(run, durations)))),
      ),
    ));
  }
}

export function runPanel(run, { durations, resultContext }, actions) {
  const running = run.status === "Running";
  const progress = run.progress ?? {};
  const pct = typeof progress.percentage === "number" ? Math.round(progress.percentage * (progress.percentage <= 1 ? 100 : 1)) : null;
  return h("div", { class: "run-panel", dataset: { runId: run.run_id, status: (run.status ?? "").toLowerCase() } },
    h("div", { class: "panel-head" },
      h("h2", {}, run.name || typeLabel(run.type)),
      h("button", { class: "icon close", title: "Close (Esc)", onclick: actions.close }, "×"),
    ),
    h("dl", { class: "facts" },
      h("dt", {}, "Type"), h("dd", {}, typeLabel(run.type)),
      h("dt", {}, "Status"), h("dd", { class: "run-state" }, run.status ?? "—"),
      h("dt", {}, "Started"), h("dd", { title: run.run_at }, `${ago(run.run_at)} (${new Date(run.run_at).toLocaleString()})`),
      h("dt", {}, "Duration"), h("dd", {}, running ? "running…" : formatSeconds(runDuration(run, durations))),
      run.check_id ? [h("dt", {}, "Check"), h("dd", {}, h("a", { href: "#", onclick: (e) => { e.preventDefault(); actions.openCheck(run.check_id); } }, "open the check"))] : null,
    ),
    running
      ? h("div", { class: "run-progress" },
          h("progress", { max: 100, value: pct ?? undefined }),
          h("span", { class: "muted small" }, progress.message ?? (pct !== null ? `${pct}%` : "Running…")),
          h("button", { class: "small danger cancel", onclick: () => actions.cancelRun(run.run_id) }, "Cancel"))
      : null,
    h("h3", {}, "Parameters"),
    h("pre", { class: "params" }, JSON.stringify(run.params ?? {}, null, 2)),
    h("h3", {}, "Result"),
    renderRunResult(run, resultContext),
    !run.check_id && !running && !run.error
      ? h("button", { class: "small add-to-checklist", onclick: () => actions.addCheckFromRun(run.run_id) }, "Add to checklist")
      : null,
  );
}
