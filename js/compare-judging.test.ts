import { afterEach, describe, expect, it } from "vitest";
import { raterLines, ratingSummaryText, readComparison } from "./views/compare";
import { blindText } from "./views/compare-board";
import { settle } from "./test/fake-model";
import { comparison, variant } from "./test/fixtures";
import { choose, mount, type Mounted } from "./test/mount";

const HOSTILE = "<img src=x onerror=alert(1)>";

let m: Mounted | null = null;
afterEach(() => {
  m?.cleanup();
  m = null;
  document.body.textContent = "";
});

const cell = (x: Mounted, label: string) => x.el.querySelector<HTMLElement>(`[data-testid="kls-compare-cell"][data-label="${label}"]`)!;
const inCell = <T extends Element = HTMLElement>(c: HTMLElement, id: string) => c.querySelector<T>(`[data-testid="${id}"]`)!;

describe("everyone's judgements", () => {
  it("reads raters defensively and treats an unclear blind state as still blind", () => {
    const c = readComparison({
      group_id: "g",
      blind: true,
      variants: [{ label: "A", rating_mean: "x", rating_count: -3, raters: [{ user: "bob", rating: 9, winner: "yes" }, { rating: 3 }, null] }],
    })!;
    expect(c.variants[0]!.raters).toEqual([{ user: "bob", rating: null, winner: false, note: "" }]);
    expect(c.variants[0]!.rating_mean).toBeNull();
    expect(c.variants[0]!.rating_count).toBe(0);
    expect(c.blind).toBe(true);
    expect(c.revealed).toBe(false); // not said: not revealed
    expect(readComparison({ group_id: "g", variants: [] })!.revealed).toBe(true); // not blind
  });

  it("sums up the mean and count, and one line per rater", () => {
    expect(ratingSummaryText({ rating_mean: null, rating_count: 0 })).toBe("no ratings yet");
    expect(ratingSummaryText({ rating_mean: 11 / 3, rating_count: 3 })).toBe("mean 3.67 of 3 ratings");
    expect(ratingSummaryText({ rating_mean: 4, rating_count: 1 })).toBe("mean 4 of 1 rating");
    expect(
      raterLines([
        { user: "ada", rating: 5, winner: true, note: "sharp" },
        { user: "bob", rating: null, winner: false, note: "" },
      ]),
    ).toEqual(["ada: 5/5, winner — sharp", "bob: no rating"]);
  });

  it("shows mine editable, everyone's mean and count, and each rater as text (tooltip and list)", () => {
    const raters = [
      { user: "ada", rating: 4, winner: false, note: "" },
      { user: HOSTILE, rating: 2, winner: true, note: HOSTILE },
    ];
    m = mount({ comparison: comparison({ variants: [variant({ rating: 4, rating_mean: 3, rating_count: 2, raters }), variant({ local_id: "v2", label: "B" })] }) });
    const a = cell(m, "A");
    expect(inCell<HTMLSelectElement>(a, "kls-compare-rating").value).toBe("4");
    const everyone = inCell(a, "kls-compare-everyone");
    expect(everyone.textContent).toBe("mean 3 of 2 ratings");
    expect(everyone.title).toBe(`ada: 4/5\n${HOSTILE}: 2/5, winner — ${HOSTILE}`);
    const items = Array.from(inCell(a, "kls-compare-raters").querySelectorAll("li")).map((li) => li.textContent);
    expect(items).toEqual(["ada: 4/5", `${HOSTILE}: 2/5, winner — ${HOSTILE}`]);
    expect(m.el.querySelector("img")).toBeNull();
    expect(inCell(cell(m, "B"), "kls-compare-everyone").textContent).toBe("no ratings yet");
  });
});

describe("blind judging", () => {
  it("the switch asks Python to go blind (Python reorders and hides), and puts itself back on refusal", async () => {
    m = mount({ comparison: comparison() });
    const x = m;
    x.model.answer("compare_blind", () => null);
    const blind = x.q<HTMLInputElement>("kls-compare-blind");
    expect(blind.checked).toBe(false);
    choose(blind, true);
    await settle();
    expect(x.model.sentOf("compare_blind").map((s) => s.content["blind"])).toEqual([true]);
    x.model.answer("compare_blind", () => ({ error: { message: "no comparison" } }));
    choose(blind, false);
    await settle();
    expect(blind.checked).toBe(true);
    expect(x.q("kls-compare-blind-error").textContent).toBe("Not switched: no comparison");
  });

  it("shows no parameters while blind, says how many are left, and rebuilds the cells when revealed", () => {
    const shuffled = comparison({
      blind: true,
      revealed: false,
      differing: [],
      variants: [variant({ local_id: "v2", label: "A", params: {}, rating: 3 }), variant({ local_id: "v1", label: "B", params: {} })],
    });
    m = mount({ comparison: shuffled });
    const x = m;
    expect(x.q<HTMLInputElement>("kls-compare-blind").checked).toBe(true);
    expect(cell(x, "A").dataset["localId"]).toBe("v2");
    expect(cell(x, "A").querySelectorAll(".kls-compare-param")).toHaveLength(0);
    expect(x.q("kls-compare-blind-note").textContent).toBe("Blind: shown in your own order as A, B; 1 left to rate before the settings are revealed.");
    const before = cell(x, "A");
    x.model.set("comparison", comparison({ blind: true, revealed: true, variants: [variant({ rating: 4 }), variant({ local_id: "v2", label: "B", params: { prompt: "A dog" }, rating: 3 })] }));
    expect(cell(x, "A")).not.toBe(before); // same labels, other tasks: a fresh layout
    expect(cell(x, "A").dataset["localId"]).toBe("v1");
    expect(cell(x, "B").textContent).toContain("A dog");
    expect(x.q("kls-compare-blind-note").textContent).toContain("Revealed");
  });

  it("says nothing when not blind", () => {
    expect(blindText({ blind: false, revealed: true, variants: [] })).toBe("");
  });
});
