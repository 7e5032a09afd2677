// The spend traits (studio/_spending.py), checked: what the estimate next to Generate and the
// spend in the header show. Strings are kept as text; anything malformed shows nothing.

import type { CostEstimate, Spending } from "./types";

const SOURCES: ReadonlyArray<CostEstimate["source"]> = ["last task", "price table", "unknown"];

export function readEstimate(raw: unknown): CostEstimate | null {
  if (typeof raw !== "object" || raw === null) return null;
  const e = raw as Record<string, unknown>;
  if (typeof e["text"] !== "string" || !e["text"]) return null;
  const credits = typeof e["credits"] === "number" && Number.isFinite(e["credits"]) ? e["credits"] : null;
  const source = SOURCES.find((s) => s === e["source"]) ?? "unknown";
  return { credits, source, text: e["text"] };
}

export function readSpending(raw: unknown): Spending | null {
  if (typeof raw !== "object" || raw === null) return null;
  const s = raw as Record<string, unknown>;
  if (typeof s["text"] !== "string" || !s["text"]) return null;
  return { text: s["text"], over: s["over"] === true };
}
