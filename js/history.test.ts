import { describe, expect, it } from "vitest";
import { COLUMNS, renderHistoryRows } from "./views/history";
import { readCard, tickTimes, timesText } from "./views/cards";
import { card, historyRow } from "./test/fixtures";

describe("renderHistoryRows", () => {
  it("makes one row per record with the columns as text", () => {
    const frag = renderHistoryRows([historyRow(7), historyRow(8)], "L8");
    const trs = Array.from(frag.children) as HTMLElement[];
    expect(trs.map((tr) => tr.getAttribute("data-testid"))).toEqual(["kls-history-row", "kls-history-row"]);
    const cells = Array.from(trs[0]!.children).map((td) => td.textContent);
    expect(cells).toHaveLength(COLUMNS.length);
    expect(cells[0]).toBe("failed");
    expect(cells[1]).toBe("Prompt number 7");
    expect(cells[2]).toBe("720p · 5 s · no audio");
    expect(cells[4]).toBe("45 s");
    expect(cells[5]).toBe("content_policy: The prompt was refused.");
    expect(trs[1]!.getAttribute("aria-selected")).toBe("true");
  });

  it("renders 10,000 rows fast", () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => historyRow(i));
    const tbody = document.createElement("tbody");
    const t0 = performance.now();
    tbody.appendChild(renderHistoryRows(rows));
    const ms = performance.now() - t0;
    console.log(`history: rendered 10,000 rows in ${ms.toFixed(0)} ms (happy-dom)`);
    expect(tbody.children).toHaveLength(10_000);
    expect(tbody.lastElementChild?.getAttribute("data-local-id")).toBe("L9999");
  }, 60_000); // happy-dom is far slower than a browser, and CI machines are busy: no timing assertion
});

describe("card times", () => {
  it("tick from the last update for running tasks only", () => {
    const c = card({ elapsed: 10, remaining: 5 });
    expect(tickTimes(c, 1000, 4000)).toEqual({ elapsed: 13, remaining: 2 });
    expect(tickTimes(c, 1000, 9000)).toEqual({ elapsed: 18, remaining: 0 });
    expect(timesText(c, 1000, 9000)).toBe("Elapsed 18 s · finishing…");
    const done = card({ status: "completed", elapsed: 61, remaining: null });
    expect(timesText(done, 0, 99_000)).toBe("Took 1 min 01 s");
  });

  it("reads partial or junk cards safely", () => {
    expect(readCard(null)).toBeNull();
    expect(readCard({ status: "pending" })).toBeNull();
    const c = readCard({ local_id: "x", progress: 250, settings: null, error: { code: 5, message: "m" } })!;
    expect(c.progress).toBe(100);
    expect(c.status).toBe("unknown");
    expect(c.error).toEqual({ code: null, message: "m" });
  });
});
