import { afterEach, describe, expect, it } from "vitest";
import type { ComparisonSummary, SummaryLevel, VariantMeasures } from "./types";
import { measuresLine, measureText, ratingBars, readMeasures, readSummary, tableRows, verdictText } from "./views/compare-summary";
import { comparison, variant } from "./test/fixtures";
import { mount, type Mounted } from "./test/mount";

const HOSTILE = "<img src=x onerror=alert(1)>";

function measures(over: Partial<VariantMeasures> = {}): VariantMeasures {
  return { first_frame_match: null, last_frame_match: null, motion: null, flicker: null, frozen_share: null, cuts: null, sharpness: null, text_alignment: null, aesthetic: null, ...over };
}

function level(value: string, rating_mean: number | null, over: Partial<SummaryLevel> = {}): SummaryLevel {
  return { value, labels: [], rating_mean, rating_count: rating_mean === null ? 0 : 4, measures: measures(), credits: null, ...over };
}

function summary(): ComparisonSummary {
  return {
    axes: [
      {
        axis: "duration",
        levels: [level("5", 1.5, { measures: measures({ motion: 2 }) }), level("10", 4.5, { measures: measures({ motion: 3.25 }), credits: 20 })],
        best: { rating_mean: "10", motion: "10" },
        test: { test: "permutation test of the ratings", p_value: 0.0002, significant: true, enough: true, note: "" },
      },
      {
        axis: "prompt",
        levels: [level(HOSTILE, 3), level("a dog", 3)],
        best: { rating_mean: null },
        test: { test: "permutation test of the ratings", p_value: null, significant: false, enough: false, note: "not enough ratings: each level needs 3 (fewest has 1)" },
      },
    ],
  };
}

let m: Mounted | null = null;
afterEach(() => {
  m?.cleanup();
  m = null;
  document.body.textContent = "";
});

describe("measures", () => {
  it("are read defensively and shown in short words", () => {
    expect(readMeasures(null)).toBeNull();
    const read = readMeasures({ motion: 2.345, cuts: 1.2, flicker: "x", frozen_share: 0.25, extra: 3 });
    expect(read).toEqual(measures({ motion: 2.345, cuts: 1, frozen_share: 0.25 }));
    expect(measureText("frozen_share", 0.25)).toBe("25%");
    expect(measureText("motion", 2.345)).toBe("2.3%/s");
    expect(measureText("first_frame_match", 0.9312)).toBe("0.93");
    expect(measuresLine(read)).toBe("motion 2.3%/s · frozen 25% · cuts 1");
    expect(measuresLine(null)).toBe("");
  });

  it("sort the variants' table by a measure, missing last, and filter by label or parameter", () => {
    const vs = [
      variant({ label: "A", params: { prompt: "A cat" }, measures: measures({ motion: 1 }) }),
      variant({ label: "B", params: { prompt: "A dog" }, measures: measures({ motion: 5 }) }),
      variant({ label: "C", params: { prompt: "A cow" }, measures: null }),
    ];
    expect(tableRows(vs, "motion", "").map((v) => v.label)).toEqual(["B", "A", "C"]);
    expect(tableRows(vs, "label", "").map((v) => v.label)).toEqual(["A", "B", "C"]);
    expect(tableRows(vs, "motion", "DOG").map((v) => v.label)).toEqual(["B"]);
  });
});

describe("the summary", () => {
  it("is read defensively", () => {
    expect(readSummary(null)).toBeNull();
    expect(readSummary({ axes: "no" })).toBeNull();
    const read = readSummary({ axes: [{ axis: "duration", levels: [{ value: 5, rating_mean: "x" }], best: { motion: 5 }, test: {} }, "junk"] });
    expect(read?.axes).toHaveLength(1);
    expect(read?.axes[0]?.levels[0]).toMatchObject({ value: "5", rating_mean: null, rating_count: 0 });
    expect(read?.axes[0]?.best).toEqual({ motion: null });
    expect(read?.axes[0]?.test.enough).toBe(false);
  });

  it("puts each level's bar at its mean rating out of 5, marking the best", () => {
    const bars = ratingBars(summary().axes[0]!.levels, "10", 200, 50);
    expect(bars.map((b) => [b.label, b.height, b.y, b.best])).toEqual([
      ["5", 15, 35, false],
      ["10", 45, 5, true],
    ]);
    expect(bars[0]!.x).toBeCloseTo(15);
    expect(bars[1]!.x).toBeCloseTo(115);
    expect(ratingBars([level("none", null)], null, 100, 50)[0]!.height).toBe(0);
  });

  it("says what the test found in words", () => {
    const [duration, prompt] = summary().axes;
    expect(verdictText(duration!.test)).toBe("the ratings differ by more than noise (p < 0.001, permutation test of the ratings)");
    expect(verdictText(prompt!.test)).toBe("not enough ratings: each level needs 3 (fewest has 1)");
    expect(verdictText({ ...duration!.test, p_value: 0.31, significant: false })).toBe("the difference could be noise (p = 0.310, permutation test of the ratings)");
  });

  it("is drawn under the cells: a chart per axis, the measures on cells, strings as text", () => {
    m = mount({
      comparison: comparison({
        summary: summary(),
        variants: [
          variant({ measures: measures({ first_frame_match: 0.91, motion: 2 }), rating_mean: 4 }),
          variant({ local_id: "v2", label: "B", params: { prompt: "A dog" }, measures: measures({ first_frame_match: 0.5, motion: 7 }) }),
        ],
      }),
    });
    expect(m.q("kls-summary").hidden).toBe(false);
    const cells = m.qa("kls-compare-measures");
    expect(cells.map((c) => c.textContent)).toEqual(["first frame 0.91 · motion 2.0%/s", "first frame 0.50 · motion 7.0%/s"]);
    const axes = m.qa("kls-summary-axis");
    expect(axes.map((a) => a.dataset["axis"])).toEqual(["duration", "prompt"]);
    const chart = axes[0]!.querySelector("svg")!;
    expect(chart.namespaceURI).toBe("http://www.w3.org/2000/svg");
    expect(chart.querySelectorAll("rect")).toHaveLength(2);
    expect(chart.querySelector(".kls-bar-best title")?.textContent).toBe("10: 4.50");
    expect(m.el.querySelector("img")).toBeNull(); // the hostile level name stayed text
    expect(axes[1]!.textContent).toContain(HOSTILE);
    // Sorting by a header, then filtering.
    const rows = () => m!.qa("kls-measures-row").map((r) => r.dataset["label"]);
    expect(rows()).toEqual(["A", "B"]);
    // Only the measures some variant has get a column.
    const heads = Array.from(m.q("kls-measures-table").querySelectorAll("th")).map((th) => th.dataset["key"]);
    expect(heads).toEqual(["label", "rating_mean", "first_frame_match", "motion"]);
    m.q("kls-measures-table").querySelector<HTMLElement>('th[data-key="motion"]')!.click();
    expect(rows()).toEqual(["B", "A"]);
    const filter = m.q<HTMLInputElement>("kls-measures-filter");
    filter.value = "cat";
    filter.dispatchEvent(new Event("input"));
    expect(rows()).toEqual(["A"]);
  });

  it("stays hidden while nothing is measured and there is no summary (blind, or running)", () => {
    m = mount({ comparison: comparison() });
    expect(m.q("kls-summary").hidden).toBe(true);
    expect(m.qa("kls-compare-measures").every((c) => c.hidden)).toBe(true);
  });
});
