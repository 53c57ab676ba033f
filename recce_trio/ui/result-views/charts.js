// Result views drawn as charts: top_k_diff (bars, base beside current) and histogram_diff
// (base and current histograms overlaid on a canvas).

import { h } from "../dom.js";
import { registerResultView } from "../results.js";

const pct = (n, total) => (total ? `${((n / total) * 100).toFixed(1)}%` : "");

registerResultView("top_k_diff", (run) => {
  const base = run.result?.base ?? {}, current = run.result?.current ?? {};
  const values = current.values ?? base.values ?? [];
  const max = Math.max(1, ...(base.counts ?? []), ...(current.counts ?? []));
  const bar = (side, n, total) => h("div", { class: `bar-line ${side}` },
    h("span", { class: "bar" }, h("span", { style: `width:${(n / max) * 100}%` })),
    h("span", { class: "num" }, `${n}`), h("span", { class: "muted small" }, pct(n, total)));
  return h("div", { class: "top-k" },
    h("p", { class: "muted small" },
      h("span", { class: "legend-base" }, "■ base"), ` ${base.valids ?? "?"} non-null of ${base.total ?? "?"} · `,
      h("span", { class: "legend-current" }, "■ current"), ` ${current.valids ?? "?"} non-null of ${current.total ?? "?"}`),
    h("table", { class: "data-table top-k-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "Value"), h("th", {}, "Base / current"))),
      h("tbody", {}, values.map((value, i) => {
        const b = base.counts?.[i] ?? 0, c = current.counts?.[i] ?? 0;
        return h("tr", { dataset: { value: value === null ? "NULL" : String(value), base: String(b), current: String(c), changed: b === c ? "no" : "yes" } },
          h("td", { class: value === null ? "null" : "" }, value === null ? "NULL" : String(value)),
          h("td", {}, bar("base", b, base.valids), bar("current", c, current.valids)));
      }))));
});

/** Draw both sides' counts over the shared bins, base then current, half transparent. */
function drawHistogram(canvas, result) {
  const ctx = canvas.getContext("2d");
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 520, hgt = canvas.clientHeight || 220;
  canvas.width = w * ratio;
  canvas.height = hgt * ratio;
  ctx.scale(ratio, ratio);
  const base = result.base?.counts ?? [], current = result.current?.counts ?? [];
  const bins = Math.max(base.length, current.length);
  const max = Math.max(1, ...base, ...current);
  const pad = { l: 40, r: 8, t: 8, b: 36 };
  const pw = w - pad.l - pad.r, ph = hgt - pad.t - pad.b;
  const style = getComputedStyle(canvas);
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = style.color || "#333";
  ctx.strokeStyle = "#999";
  ctx.beginPath();
  ctx.moveTo(pad.l, pad.t);
  ctx.lineTo(pad.l, pad.t + ph);
  ctx.lineTo(pad.l + pw, pad.t + ph);
  ctx.stroke();
  ctx.textAlign = "right";
  ctx.fillText(String(max), pad.l - 4, pad.t + 10);
  ctx.fillText("0", pad.l - 4, pad.t + ph);
  if (!bins) return;
  const bw = pw / bins;
  for (const [counts, color] of [[base, "rgba(240, 140, 40, 0.55)"], [current, "rgba(40, 110, 220, 0.55)"]]) {
    ctx.fillStyle = color;
    counts.forEach((n, i) => {
      const bh = (n / max) * ph;
      ctx.fillRect(pad.l + i * bw + 1, pad.t + ph - bh, Math.max(1, bw - 2), bh);
    });
  }
  const edges = result.bin_edges ?? [];
  ctx.fillStyle = style.color || "#333";
  ctx.textAlign = "center";
  const step = Math.max(1, Math.ceil(edges.length / Math.max(1, Math.floor(pw / 60))));
  edges.forEach((edge, i) => {
    if (i % step && i !== edges.length - 1) return;
    ctx.fillText(String(edge), pad.l + i * bw, pad.t + ph + 14);
  });
}

registerResultView("histogram_diff", (run) => {
  const result = run.result ?? {};
  const base = result.base ?? {}, current = result.current ?? {};
  const edges = result.bin_edges ?? [];
  const canvas = h("canvas", { class: "histogram", width: 520, height: 220, "aria-label": "Histogram: base and current overlaid" });
  // Drawn once it is in the page (its size comes from CSS).
  requestAnimationFrame(() => drawHistogram(canvas, result));
  const label = (i) => (result.labels?.[i] ?? (edges.length > i + 1 ? `${edges[i]} – ${edges[i + 1]}` : String(edges[i] ?? i)));
  const bins = Math.max(base.counts?.length ?? 0, current.counts?.length ?? 0);
  return h("div", { class: "histogram-diff" },
    h("p", { class: "muted small" },
      h("span", { class: "legend-base" }, "■ base"), ` ${base.total ?? "?"} values · `,
      h("span", { class: "legend-current" }, "■ current"), ` ${current.total ?? "?"} values · min ${result.min ?? "NULL"}, max ${result.max ?? "NULL"}`),
    bins ? canvas : h("p", { class: "muted" }, "No values on either side."),
    bins ? h("details", { class: "histogram-bins" }, h("summary", {}, `${bins} bins`),
      h("table", { class: "data-table" },
        h("thead", {}, h("tr", {}, h("th", {}, "Bin"), h("th", {}, "Base"), h("th", {}, "Current"))),
        h("tbody", {}, Array.from({ length: bins }, (_, i) => h("tr", { dataset: { bin: String(i) } },
          h("td", {}, label(i)), h("td", { class: "num" }, String(base.counts?.[i] ?? 0)), h("td", { class: "num" }, String(current.counts?.[i] ?? 0))))))) : null);
});
