// The actions: the only code that changes the store, apart from loading the lineage. Each
// talks to the API, then sets the state; the views redraw from the store.

import { api, runsApi } from "./api.js";
import { readFilters } from "./lineage-view.js";

/** `lineageView()` returns the LineageView; `toast(message)` shows an error. */
export function createActions(store, { lineageView, toast }) {
  async function loadDetails(id) {
    if (store.get().details[id]) return;
    let model;
    try {
      model = (await runsApi.model(id)).model ?? {};
    } catch (err) {
      model = { error: err.message };
    }
    store.set((s) => ({ details: { ...s.details, [id]: model } }));
  }

  async function loadChecks() {
    try {
      store.set({ checks: (await api.checks()) ?? [] });
    } catch (err) {
      toast(`Could not load the checks: ${err.message}`);
    }
  }

  async function loadRuns() {
    try {
      store.set({ runs: (await runsApi.list()) ?? [] });
    } catch (err) {
      toast(`Could not load the runs: ${err.message}`);
    }
  }

  const actions = {
    openNode(id, { center = false } = {}) {
      if (!id) return actions.close();
      if (!(id in (store.get().lineage?.nodes ?? {}))) return;
      store.set({ panel: { kind: "node", id } });
      if (center) lineageView().graph.select(id, { center: true });
      loadDetails(id);
    },
    close() {
      store.set({ panel: null, openRun: null });
    },
    pick(id, on = !store.get().picked.includes(id)) {
      const picked = store.get().picked.filter((p) => p !== id);
      if (on) picked.push(id);
      store.set({ picked });
    },
    setTab: (nodeTab) => store.set({ nodeTab }),
    setCodeView: (codeView) => store.set({ codeView }),
    setCodeSide: (codeSide) => store.set({ codeSide }),

    openCheck(id) {
      store.set({ panel: { kind: "check", id }, side: "checks" });
    },
    async addCheck(body) {
      let check;
      try {
        check = await api.createCheck(body);
      } catch (err) {
        toast(`Could not add the check: ${err.message}`);
        return null;
      }
      store.set((s) => ({ checks: [...s.checks, check], panel: { kind: "check", id: check.check_id }, side: "checks" }));
      if (check.type === "schema_diff" || check.type === "lineage_diff") await actions.runCheck(check.check_id);
      return check;
    },
    addSchemaCheck(nodeIds) {
      const ids = [nodeIds].flat();
      const names = ids.map((id) => store.get().lineage.nodes[id]?.name ?? id);
      const shown = names.length > 3 ? `${names.slice(0, 2).join(", ")} and ${names.length - 2} more` : names.join(", ");
      return actions.addCheck({ name: `Schema diff of ${shown}`, type: "schema_diff", params: { node_id: ids } });
    },
    async addPickedCheck() {
      const { picked } = store.get();
      if (picked.length && (await actions.addSchemaCheck([...picked]))) store.set({ picked: [] });
    },
    addLineageCheck() {
      const sel = store.get().selection ?? readFilters();
      const what = sel.select ? `of ${sel.select}` : sel.view_mode === "changed_models" ? "of the changed models" : "of the whole project";
      return actions.addCheck({ name: `Lineage diff ${what}`, type: "lineage_diff", params: { ...sel } });
    },
    async updateCheck(id, patch) {
      try {
        const saved = await api.updateCheck(id, patch);
        store.set((s) => ({ checks: s.checks.map((c) => (c.check_id === id ? { ...c, ...saved } : c)) }));
      } catch (err) {
        toast(`Could not save the check: ${err.message}`);
        store.set((s) => ({ checks: [...s.checks] })); // redraw with the saved values
      }
    },
    async deleteCheck(id) {
      try {
        await api.deleteCheck(id);
      } catch (err) {
        toast(`Could not delete the check: ${err.message}`);
        return;
      }
      store.set((s) => ({ checks: s.checks.filter((c) => c.check_id !== id), panel: s.panel?.id === id ? null : s.panel }));
    },
    async moveCheck(source, destination) {
      const checks = [...store.get().checks];
      if (destination < 0 || destination >= checks.length || source === destination) return;
      try {
        await api.reorderChecks(source, destination);
      } catch (err) {
        toast(`Could not reorder the checks: ${err.message}`);
        return;
      }
      const [moved] = checks.splice(source, 1);
      checks.splice(destination, 0, moved);
      store.set({ checks });
    },
    async runCheck(id) {
      let run;
      const submitted = performance.now();
      try {
        run = await runsApi.runCheck(id);
      } catch (err) {
        toast(`Could not run the check: ${err.message}`);
        return;
      }
      await followRun(run, submitted);
      await Promise.all([loadChecks(), loadRuns()]);
    },

    async openRun(id) {
      store.set({ panel: { kind: "run", id }, side: "runs" });
      let run;
      try {
        run = await runsApi.get(id, 0);
      } catch (err) {
        toast(`Could not open the run: ${err.message}`);
        return;
      }
      if (store.get().panel?.id !== id) return;
      store.set({ openRun: run });
      if (run.status === "Running") {
        await followRun(run, null);
        await Promise.all([loadChecks(), loadRuns()]);
      }
    },
    async cancelRun(id) {
      try {
        await runsApi.cancel(id);
      } catch (err) {
        toast(`Could not cancel the run: ${err.message}`);
      }
      await loadRuns();
    },
    async addCheckFromRun(runId) {
      await actions.addCheck({ run_id: runId });
    },
    showLineage(params) {
      const { select, exclude, packages, view_mode } = params;
      lineageView().apply(Object.fromEntries(Object.entries({ select, exclude, packages, view_mode: view_mode ?? "all" }).filter(([, v]) => v !== undefined && v !== null && v !== "")));
    },
  };

  /** Wait for a run to end (polling /wait), keeping the open run view and the list current. */
  async function followRun(run, submittedAt) {
    const id = run.run_id;
    await loadRuns();
    while (run.status === "Running") {
      if (store.get().panel?.kind === "run" && store.get().panel.id === id) store.set({ openRun: run });
      try {
        run = await runsApi.get(id, 2);
      } catch {
        return;
      }
    }
    if (submittedAt !== null) {
      const seconds = (performance.now() - submittedAt) / 1000;
      store.set((s) => ({ durations: { ...s.durations, [id]: seconds } }));
    }
    if (store.get().panel?.kind === "run" && store.get().panel.id === id) store.set({ openRun: run });
  }

  return { actions, loadDetails, loadChecks, loadRuns };
}
