// A code diff, unified or side by side: changed lines and, within them, changed words
// highlighted; long unchanged stretches collapsed behind a button that expands them.
// The line and word diffs come from the vendored jsdiff (vendor/diff.min.js).

import "./vendor/diff.min.js";
import { h } from "./dom.js";

const Diff = globalThis.Diff;
export const CONTEXT = 3; // unchanged lines kept around each change
const WORD_DIFF_MAX = 2000; // characters: longer line pairs are highlighted as whole lines

/** The lines of a diff: {type: "eq"|"del"|"add", text, o (old number), n (new number)}. */
export function diffLines(oldText, newText) {
  const lines = [];
  let o = 0, n = 0;
  for (const part of Diff.diffLines(oldText ?? "", newText ?? "")) {
    if (!part.value) continue;
    const texts = part.value.replace(/\n$/, "").split("\n");
    for (const text of texts) {
      if (part.added) lines.push({ type: "add", text, n: ++n });
      else if (part.removed) lines.push({ type: "del", text, o: ++o });
      else lines.push({ type: "eq", text, o: ++o, n: ++n });
    }
  }
  return lines;
}

/** Pairs each run of removed lines with the added lines after it, for word highlights. */
function pairChanges(lines) {
  let i = 0;
  while (i < lines.length) {
    if (lines[i].type !== "del") {
      i++;
      continue;
    }
    const dels = [];
    while (i < lines.length && lines[i].type === "del") dels.push(lines[i++]);
    const adds = [];
    while (i < lines.length && lines[i].type === "add") adds.push(lines[i++]);
    for (let k = 0; k < Math.min(dels.length, adds.length); k++) {
      dels[k].pair = adds[k];
      adds[k].pair = dels[k];
    }
  }
}

/** The text of a changed line, its changed words wrapped in <del>/<ins>. */
function lineContent(line) {
  if (line.type === "eq" || !line.pair || line.text.length + line.pair.text.length > WORD_DIFF_MAX) return [line.text];
  const [oldText, newText] = line.type === "del" ? [line.text, line.pair.text] : [line.pair.text, line.text];
  const parts = Diff.diffWordsWithSpace(oldText, newText);
  // Mostly rewritten lines read better without word marks.
  const same = parts.filter((p) => !p.added && !p.removed).reduce((a, p) => a + p.value.trim().length, 0);
  if (same < Math.min(oldText.trim().length, newText.trim().length) * 0.3) return [line.text];
  const out = [];
  for (const p of parts) {
    if (line.type === "del" && !p.added) out.push(p.removed ? h("del", { class: "w" }, p.value) : p.value);
    if (line.type === "add" && !p.removed) out.push(p.added ? h("ins", { class: "w" }, p.value) : p.value);
  }
  return out;
}

/** Runs of lines to show and stretches to collapse: [{lines, hidden: bool}]. */
export function segments(lines, context = CONTEXT) {
  const keep = new Uint8Array(lines.length);
  lines.forEach((line, i) => {
    if (line.type === "eq") return;
    for (let k = Math.max(0, i - context); k <= Math.min(lines.length - 1, i + context); k++) keep[k] = 1;
  });
  const out = [];
  let i = 0;
  while (i < lines.length) {
    const hidden = !keep[i];
    const start = i;
    while (i < lines.length && !keep[i] === hidden) i++;
    // Hiding one or two lines saves nothing: show them.
    if (hidden && i - start <= 2) out.push({ lines: lines.slice(start, i), hidden: false });
    else out.push({ lines: lines.slice(start, i), hidden });
  }
  return out;
}

const SIGN = { eq: " ", del: "-", add: "+" };

function unifiedRow(line) {
  return h("tr", { class: `line ${line.type}` },
    h("td", { class: "ln" }, line.o ?? ""),
    h("td", { class: "ln" }, line.n ?? ""),
    h("td", { class: "sign" }, SIGN[line.type]),
    h("td", { class: "code" }, lineContent(line)),
  );
}

/** Side by side: removed lines on the left facing the added lines on the right. */
function splitRows(lines) {
  const rows = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.type === "eq") {
      rows.push(h("tr", { class: "line eq" },
        h("td", { class: "ln" }, line.o), h("td", { class: "code" }, line.text),
        h("td", { class: "ln" }, line.n), h("td", { class: "code" }, line.text)));
      i++;
      continue;
    }
    const dels = [], adds = [];
    while (i < lines.length && lines[i].type === "del") dels.push(lines[i++]);
    while (i < lines.length && lines[i].type === "add") adds.push(lines[i++]);
    for (let k = 0; k < Math.max(dels.length, adds.length); k++) {
      const d = dels[k], a = adds[k];
      rows.push(h("tr", { class: "line pair" },
        h("td", { class: `ln${d ? " del" : " empty"}` }, d?.o ?? ""),
        h("td", { class: `code${d ? " del" : " empty"}` }, d ? lineContent(d) : ""),
        h("td", { class: `ln${a ? " add" : " empty"}` }, a?.n ?? ""),
        h("td", { class: `code${a ? " add" : " empty"}` }, a ? lineContent(a) : ""),
      ));
    }
  }
  return rows;
}

function rowsFor(lines, mode) {
  return mode === "split" ? splitRows(lines) : lines.map(unifiedRow);
}

/** The diff of two texts as a table; `mode` is "unified" or "split". */
export function codeDiff(oldText, newText, { mode = "unified", context = CONTEXT } = {}) {
  const lines = diffLines(oldText, newText);
  pairChanges(lines);
  const added = lines.filter((l) => l.type === "add").length;
  const removed = lines.filter((l) => l.type === "del").length;
  const cols = 4;
  const body = h("tbody");
  for (const seg of segments(lines, context)) {
    if (!seg.hidden) {
      body.append(...rowsFor(seg.lines, mode));
      continue;
    }
    const n = seg.lines.length;
    const expander = h("tr", { class: "expander" },
      h("td", { colspan: cols },
        h("button", { type: "button", class: "expand", onclick: () => expander.replaceWith(...rowsFor(seg.lines, mode)) },
          `⋯ Show ${n} unchanged line${n === 1 ? "" : "s"}`)));
    body.append(expander);
  }
  return h("div", { class: "code-diff", dataset: { mode, added: String(added), removed: String(removed) } },
    h("div", { class: "diff-stat muted small" }, h("span", { class: "plus" }, `+${added}`), " ", h("span", { class: "minus" }, `−${removed}`)),
    h("table", { class: `diff ${mode}` }, body),
  );
}

/** Stable, readable JSON for diffing configs: keys sorted at every level. */
export function canonicalJson(value) {
  const sort = (v) => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === "object") return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort(v[k])]));
    return v;
  };
  return value === undefined || value === null ? "" : JSON.stringify(sort(value), null, 2);
}
