// The checklist: list, add, rename, describe, approve, reorder, delete, all through /api/checks.

import { api } from "./api.js";
import { h, schemaDiffTable } from "./details.js";

const TYPE_LABELS = {
  schema_diff: "Schema diff",
  lineage_diff: "Lineage diff",
  row_count_diff: "Row count diff",
  query_diff: "Query diff",
  value_diff: "Value diff",
  profile_diff: "Profile diff",
  simple: "Note",
};

export class Checklist {
  constructor(listEl, { onOpen, onError, getLineage, onShowLineage }) {
    this.listEl = listEl;
    this.onOpen = onOpen;
    this.onError = onError;
    this.getLineage = getLineage;
    this.onShowLineage = onShowLineage;
    this.checks = [];
    this.openId = null;
  }

  async load() {
    try {
      this.checks = (await api.checks()) ?? [];
    } catch (err) {
      this.onError(`Could not load the checks: ${err.message}`);
      return;
    }
    if (this.openId && !this.checks.some((c) => c.check_id === this.openId)) this.openId = null;
    this.render();
  }

  async add(body) {
    try {
      const check = await api.createCheck(body);
      this.checks.push(check);
      this.openId = check.check_id;
      this.render();
      this.onOpen(check);
      return check;
    } catch (err) {
      this.onError(`Could not add the check: ${err.message}`);
      return null;
    }
  }

  async update(id, patch) {
    try {
      const saved = await api.updateCheck(id, patch);
      const i = this.checks.findIndex((c) => c.check_id === id);
      if (i >= 0) this.checks[i] = { ...this.checks[i], ...saved };
      this.render();
      return this.checks[i];
    } catch (err) {
      this.onError(`Could not save the check: ${err.message}`);
      return null;
    }
  }

  async remove(id) {
    try {
      await api.deleteCheck(id);
    } catch (err) {
      this.onError(`Could not delete the check: ${err.message}`);
      return false;
    }
    this.checks = this.checks.filter((c) => c.check_id !== id);
    if (this.openId === id) this.openId = null;
    this.render();
    return true;
  }

  async move(source, destination) {
    if (destination < 0 || destination >= this.checks.length || source === destination) return;
    try {
      await api.reorderChecks(source, destination);
    } catch (err) {
      this.onError(`Could not reorder the checks: ${err.message}`);
      return;
    }
    const [moved] = this.checks.splice(source, 1);
    this.checks.splice(destination, 0, moved);
    this.render();
  }

  render() {
    const list = this.listEl;
    list.replaceChildren();
    const approved = this.checks.filter((c) => c.is_checked).length;
    document.getElementById("checks-count").textContent = this.checks.length
      ? `${approved}/${this.checks.length} approved`
      : "";
    if (!this.checks.length) {
      list.append(h("li", { class: "empty muted" }, "No checks yet. Add one from a node's schema or from the lineage filters."));
      return;
    }
    this.checks.forEach((check, index) => {
      const item = h("li", {
          class: `check-item${check.check_id === this.openId ? " open" : ""}${check.is_checked ? " approved" : ""}`,
          draggable: "true",
          dataset: { checkId: check.check_id, index: String(index) },
          onclick: () => this.open(check.check_id),
          ondragstart: (e) => e.dataTransfer.setData("text/x-check-index", String(index)),
          ondragover: (e) => e.preventDefault(),
          ondrop: (e) => {
            e.preventDefault();
            const from = Number(e.dataTransfer.getData("text/x-check-index"));
            if (!Number.isNaN(from)) this.move(from, index);
          },
        },
        h("span", { class: "tick", title: check.is_checked ? "Approved" : "Not approved yet" }, check.is_checked ? "✓" : ""),
        h("span", { class: "check-text" },
          h("span", { class: "check-name" }, check.name || "(unnamed)"),
          h("span", { class: "check-type" }, TYPE_LABELS[check.type] ?? check.type),
        ),
        h("span", { class: "order" },
          h("button", { class: "icon up", title: "Move up", disabled: index === 0,
            onclick: (e) => { e.stopPropagation(); this.move(index, index - 1); } }, "↑"),
          h("button", { class: "icon down", title: "Move down", disabled: index === this.checks.length - 1,
            onclick: (e) => { e.stopPropagation(); this.move(index, index + 1); } }, "↓"),
        ),
      );
      list.append(item);
    });
  }

  open(id) {
    this.openId = id;
    this.render();
    const check = this.checks.find((c) => c.check_id === id);
    if (check) this.onOpen(check);
  }

  /** The panel for one check: name, description, approval, its diff, delete. */
  panel(check, { onClose }) {
    const id = check.check_id;
    const name = h("input", { class: "check-title", value: check.name ?? "", "aria-label": "Check name",
      onchange: () => this.update(id, { name: name.value }) });
    const description = h("textarea", { class: "check-description", rows: 3, placeholder: "Describe what you checked and why…",
      "aria-label": "Description", value: check.description ?? "",
      onchange: () => this.update(id, { description: description.value }) });
    const approve = h("input", { type: "checkbox", class: "approve", checked: !!check.is_checked,
      onchange: async () => {
        const saved = await this.update(id, { is_checked: approve.checked });
        approve.checked = !!saved?.is_checked;
        status.textContent = approve.checked ? "Approved" : "Mark as approved";
      } });
    const status = h("span", {}, check.is_checked ? "Approved" : "Mark as approved");
    const panel = h("div", { class: "check-panel", dataset: { checkId: id } },
      h("div", { class: "panel-head" },
        name,
        h("button", { class: "icon", title: "Close", onclick: onClose }, "×"),
      ),
      h("div", { class: "check-type muted" }, TYPE_LABELS[check.type] ?? check.type),
      description,
      h("label", { class: "approve-row" }, approve, status),
      this._body(check),
      h("div", { class: "danger-row" },
        h("button", { class: "danger delete", onclick: async () => {
          if (await this.remove(id)) onClose();
        } }, "Delete check"),
      ),
    );
    return panel;
  }

  _body(check) {
    const lineage = this.getLineage();
    const params = check.params ?? {};
    if (check.type === "schema_diff") {
      const ids = [params.node_id ?? []].flat();
      if (!ids.length) return h("p", { class: "muted" }, "Schema diff of a selection: ", h("code", {}, JSON.stringify(params)));
      return h("div", {}, ids.map((nodeId) => {
        const node = lineage?.current.nodes[nodeId] ?? lineage?.base.nodes[nodeId];
        return h("div", {},
          h("h3", {}, node?.name ?? nodeId),
          node ? schemaDiffTable(lineage, nodeId) : h("p", { class: "warn" }, "This node is not in either environment any more."),
        );
      }));
    }
    if (check.type === "lineage_diff") {
      const parts = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "");
      return h("div", {},
        h("dl", { class: "facts" }, parts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, Array.isArray(v) ? v.join(", ") : String(v))])),
        h("button", { class: "small", onclick: () => this.onShowLineage(params) }, "Show in lineage"),
      );
    }
    return h("pre", { class: "params" }, JSON.stringify(params, null, 2));
  }
}
