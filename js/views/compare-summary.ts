// What a comparison showed (compare/_summary.py, docs/measures.md): the measures on each cell,
// a sortable and filterable table of the variants' ratings and measures, and per axis of the grid
// a small bar chart of each level's mean rating with the test's verdict. Charts are SVG built
// with DOM calls; every string goes in as textContent, never as markup.

import { h, replace } from "../dom";
import type { ComparisonSummary, SummaryAxis, SummaryLevel, SummaryTest, Variant, VariantMeasures } from "../types";

const SVG = "http://www.w3.org/2000/svg";

/** The measures, in the order cells and tables show them, with a short heading each. */
export const MEASURES: ReadonlyArray<readonly [keyof VariantMeasures, string]> = [
  ["first_frame_match", "first frame"],
  ["last_frame_match", "last frame"],
  ["motion", "motion"],
  ["flicker", "flicker"],
  ["frozen_share", "frozen"],
  ["cuts", "cuts"],
  ["sharpness", "sharpness"],
  ["text_alignment", "text"],
  ["aesthetic", "aesthetic"],
];

const EMPTY: VariantMeasures = {
  first_frame_match: null,
  last_frame_match: null,
  motion: null,
  flicker: null,
  frozen_share: null,
  cuts: null,
  sharpness: null,
  text_alignment: null,
  aesthetic: null,
};

function finite(x: unknown): number | null {
  return typeof x === "number" && Number.isFinite(x) ? x : null;
}

/** A variant's (or level's) measures, checked: anything not a finite number is null. */
export function readMeasures(raw: unknown): VariantMeasures | null {
  if (typeof raw !== "object" || raw === null) return null;
  const m = raw as Record<string, unknown>;
  const out: VariantMeasures = { ...EMPTY };
  for (const [name] of MEASURES) {
    const v = finite(m[name]);
    out[name] = name === "cuts" && v !== null ? Math.round(v) : v;
  }
  return out;
}

/** A measure as a cell shows it ("" without one). */
export function measureText(name: keyof VariantMeasures, value: number | null): string {
  if (value === null) return "";
  switch (name) {
    case "frozen_share":
      return `${Math.round(value * 100)}%`;
    case "cuts":
      return String(Math.round(value));
    case "motion":
      return `${value.toFixed(1)}%/s`;
    case "sharpness":
      return String(Math.round(value));
    case "flicker":
      return value.toFixed(2);
    default:
      return value.toFixed(2);
  }
}

/** "first frame 0.93 · motion 2.4%/s · ..." for a cell; "" when nothing is measured. */
export function measuresLine(m: VariantMeasures | null): string {
  if (!m) return "";
  return MEASURES.filter(([name]) => m[name] !== null)
    .map(([name, heading]) => `${heading} ${measureText(name, m[name])}`)
    .join(" · ");
}

function readTest(raw: unknown): SummaryTest {
  const t = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
  return {
    test: typeof t["test"] === "string" ? t["test"] : "",
    p_value: finite(t["p_value"]),
    significant: t["significant"] === true,
    enough: t["enough"] === true,
    note: typeof t["note"] === "string" ? t["note"] : "",
  };
}

function readLevel(raw: unknown): SummaryLevel | null {
  if (typeof raw !== "object" || raw === null) return null;
  const l = raw as Record<string, unknown>;
  return {
    value: typeof l["value"] === "string" ? l["value"] : String(l["value"] ?? ""),
    labels: Array.isArray(l["labels"]) ? l["labels"].filter((x): x is string => typeof x === "string") : [],
    rating_mean: finite(l["rating_mean"]),
    rating_count: Math.max(0, Math.floor(finite(l["rating_count"]) ?? 0)),
    measures: readMeasures(l["measures"]) ?? { ...EMPTY },
    credits: finite(l["credits"]),
  };
}

/** The `summary` of the comparison trait, checked; null when absent or unusable. */
export function readSummary(raw: unknown): ComparisonSummary | null {
  if (typeof raw !== "object" || raw === null) return null;
  const axesRaw = (raw as Record<string, unknown>)["axes"];
  if (!Array.isArray(axesRaw)) return null;
  const axes: SummaryAxis[] = [];
  for (const a of axesRaw) {
    if (typeof a !== "object" || a === null) continue;
    const r = a as Record<string, unknown>;
    if (typeof r["axis"] !== "string") continue;
    const levels = Array.isArray(r["levels"]) ? r["levels"].map(readLevel).filter((l): l is SummaryLevel => l !== null) : [];
    const best: Record<string, string | null> = {};
    if (typeof r["best"] === "object" && r["best"] !== null) {
      for (const [k, v] of Object.entries(r["best"] as Record<string, unknown>)) best[k] = typeof v === "string" ? v : null;
    }
    axes.push({ axis: r["axis"], levels, best, test: readTest(r["test"]) });
  }
  return { axes };
}

/** The sentence under an axis's chart: what the test says, in words. */
export function verdictText(t: SummaryTest): string {
  if (!t.enough) return t.note || "not enough ratings to tell";
  const p = t.p_value === null ? "?" : t.p_value < 0.001 ? "< 0.001" : t.p_value.toFixed(3);
  return t.significant ? `the ratings differ by more than noise (p ${p === "< 0.001" ? p : `= ${p}`}, ${t.test})` : `the difference could be noise (p = ${p}, ${t.test})`;
}

// --- the bar chart of mean ratings ---

export interface Bar {
  label: string;
  value: number | null;
  x: number;
  y: number;
  width: number;
  height: number;
  best: boolean;
}

/** Where each level's bar goes: mean rating 0..5 on the height, equal slots side by side; a
 *  level without ratings gets no height. `best` marks the best-rated level when it is unique. */
export function ratingBars(levels: SummaryLevel[], bestValue: string | null, width: number, height: number): Bar[] {
  const n = Math.max(1, levels.length);
  const slot = width / n;
  const barWidth = Math.max(1, slot * 0.7);
  return levels.map((level, i) => {
    const value = level.rating_mean;
    const barHeight = value === null ? 0 : (Math.max(0, Math.min(5, value)) / 5) * height;
    return {
      label: level.value,
      value,
      x: i * slot + (slot - barWidth) / 2,
      y: height - barHeight,
      width: barWidth,
      height: barHeight,
      best: bestValue !== null && level.value === bestValue,
    };
  });
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** A small SVG chart of the mean rating per level (text as textContent). */
export function ratingChart(axis: SummaryAxis, width = 240, height = 60): SVGSVGElement {
  const bars = ratingBars(axis.levels, axis.best["rating_mean"] ?? null, width, height);
  const root = svg("svg", { width, height: height + 14, viewBox: `0 0 ${width} ${height + 14}`, role: "img", "data-testid": "kls-summary-chart" });
  const title = svg("title", {});
  title.textContent = `Mean rating per ${axis.axis}`;
  root.appendChild(title);
  for (const bar of bars) {
    const rect = svg("rect", { x: bar.x, y: bar.y, width: bar.width, height: bar.height, class: bar.best ? "kls-bar kls-bar-best" : "kls-bar" });
    const tip = svg("title", {});
    tip.textContent = `${bar.label}: ${bar.value === null ? "no ratings" : bar.value.toFixed(2)}`;
    rect.appendChild(tip);
    root.appendChild(rect);
    const text = svg("text", { x: bar.x + bar.width / 2, y: height + 12, "text-anchor": "middle", "font-size": 10 });
    text.textContent = bar.label.length > 18 ? `${bar.label.slice(0, 17)}…` : bar.label;
    root.appendChild(text);
  }
  return root;
}

/** The measures any of `all` has (columns nobody has are left out of the tables). */
export function usedMeasures(all: Array<VariantMeasures | null>): Array<readonly [keyof VariantMeasures, string]> {
  return MEASURES.filter(([name]) => all.some((m) => m !== null && m[name] !== null));
}

/** One axis: its name, the chart, the verdict, and each level's figures with the best marked. */
export function axisEl(axis: SummaryAxis): HTMLElement {
  const used = usedMeasures(axis.levels.map((l) => l.measures));
  const rows = axis.levels.map((level) =>
    h(
      "tr",
      {},
      h("td", { text: level.value }),
      h("td", { text: level.rating_mean === null ? "" : `${level.rating_mean.toFixed(2)} (${level.rating_count})` }),
      ...used.map(([name]) => h("td", { text: measureText(name, level.measures[name]) + (axis.best[name] === level.value ? " ★" : "") })),
      h("td", { text: level.credits === null ? "" : String(level.credits) }),
    ),
  );
  return h(
    "div",
    { class: "kls-summary-axis", "data-testid": "kls-summary-axis", "data-axis": axis.axis },
    h("strong", { text: axis.axis }),
    ratingChart(axis),
    h("div", { class: "kls-note", "data-testid": "kls-summary-verdict", text: verdictText(axis.test) }),
    h(
      "table",
      { class: "kls-summary-levels" },
      h("thead", {}, h("tr", {}, h("th", { text: "level" }), h("th", { text: "rating (n)" }), ...used.map(([, heading]) => h("th", { text: heading })), h("th", { text: "credits" }))),
      h("tbody", {}, ...rows),
    ),
  );
}

// --- the variants' table: sortable and filterable ---

export type SortKey = "label" | "rating_mean" | keyof VariantMeasures;

/** The variants to list: those whose label or parameters contain `filter` (any case), sorted by
 *  `key` (numbers descending, missing last; labels ascending). */
export function tableRows(variants: Variant[], key: SortKey, filter: string): Variant[] {
  const needle = filter.trim().toLowerCase();
  const kept = needle
    ? variants.filter((v) => [v.label, ...Object.values(v.params).map(String)].some((s) => s.toLowerCase().includes(needle)))
    : [...variants];
  const value = (v: Variant): number | null => (key === "rating_mean" ? v.rating_mean : key === "label" ? null : (v.measures?.[key] ?? null));
  return kept.sort((a, b) => {
    if (key === "label") return a.label.localeCompare(b.label);
    const x = value(a);
    const y = value(b);
    if (x === null && y === null) return a.label.localeCompare(b.label);
    if (x === null) return 1;
    if (y === null) return -1;
    return y - x || a.label.localeCompare(b.label);
  });
}

/** The summary section under the cells: the variants' table, then one block per axis. */
export class SummaryPanel {
  readonly el: HTMLElement;
  private readonly filter: HTMLInputElement;
  private readonly table = h("table", { class: "kls-summary-table", "data-testid": "kls-measures-table" });
  private readonly axes = h("div", { class: "kls-summary-axes", "data-testid": "kls-summary-axes" });
  private variants: Variant[] = [];
  private key: SortKey = "label";

  constructor(listen: (el: HTMLElement, type: "input" | "click", fn: (e: Event) => void) => void) {
    this.filter = h("input", { type: "search", placeholder: "filter variants", "aria-label": "Filter variants", "data-testid": "kls-measures-filter" });
    this.el = h("div", { class: "kls-summary", "data-testid": "kls-summary", hidden: true }, h("strong", { text: "Measures" }), this.filter, this.table, this.axes);
    listen(this.filter, "input", () => this.render());
    listen(this.table, "click", (e: Event) => {
      const key = (e.target as HTMLElement | null)?.closest?.("th")?.getAttribute("data-key");
      if (key) {
        this.key = key as SortKey;
        this.render();
      }
    });
  }

  show(variants: Variant[], summary: ComparisonSummary | null): void {
    this.variants = variants;
    replace(this.axes, ...(summary?.axes ?? []).map(axisEl));
    this.el.hidden = !variants.some((v) => v.measures !== null) && !(summary && summary.axes.length);
    this.render();
  }

  private render(): void {
    const used = usedMeasures(this.variants.map((v) => v.measures));
    const head = h(
      "tr",
      {},
      ...(
        [
          ["label", "variant"],
          ["rating_mean", "rating"],
          ...used,
        ] as Array<readonly [SortKey, string]>
      ).map(([key, text]) => h("th", { "data-key": key, "aria-sort": key === this.key ? "descending" : "none", tabindex: 0, text: key === this.key ? `${text} ▾` : text })),
    );
    const rows = tableRows(this.variants, this.key, this.filter.value).map((v) =>
      h(
        "tr",
        { "data-testid": "kls-measures-row", "data-label": v.label },
        h("td", { text: v.label }),
        h("td", { text: v.rating_mean === null ? "" : v.rating_mean.toFixed(2) }),
        ...used.map(([name]) => h("td", { text: measureText(name, v.measures?.[name] ?? null) })),
      ),
    );
    replace(this.table, h("thead", {}, head), h("tbody", {}, ...rows));
  }
}
