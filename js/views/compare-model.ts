// The comparison view's data: the `comparison` trait and `compare_plan` reply read and checked,
// the texts they become (parameters, plan summaries, everyone's ratings), and what its parts share.
// Pure: no DOM beyond building a parameter list, so vitest covers it directly.

import { readMeasures, readSummary } from "./compare-summary";
import type { AnyModel } from "@anywidget/types";
import type { FrameClock } from "../compare-sync";
import { h } from "../dom";
import { grouped } from "../format";
import { TICKING_STATUSES } from "../protocol.gen";
import type { Rpc } from "../rpc";
import type { Scope } from "../scope";
import type { Comparison, ComparePlan, ParamValue, PlanCosts, PlanVariant, RaterRating, Rules, TaskStatus, Traits, Variant } from "../types";
import type { VideoDeps } from "../video";

// "queued": a variant waiting for its turn (Python runs a few at a time).
// Statuses shown with a progress bar: Python's statuses.TICKING, generated.
export const RUNNING = new Set<string>(TICKING_STATUSES);

// --- pure helpers (exported for tests) ---

/** Lines of a textarea: trimmed, without empty ones and without repeats. */
export function linesOf(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line !== "" && !out.includes(line)) out.push(line);
  }
  return out;
}

const PARAM_NAMES: Record<string, string> = {
  prompt: "Prompt",
  negative_prompt: "Negative prompt",
  resolution: "Resolution",
  duration: "Duration",
  use_tail: "Last frame",
  image_tail: "Last frame",
  generate_audio: "Audio",
};

export function paramName(name: string): string {
  return PARAM_NAMES[name] ?? name.replace(/_/g, " ");
}

export function paramText(name: string, value: ParamValue): string {
  if (typeof value === "boolean") {
    if (name === "use_tail" || name === "image_tail") return value ? "with" : "without";
    return value ? "yes" : "no";
  }
  if (typeof value === "number") return name === "duration" ? `${value} s` : String(value);
  return value;
}

/** The params worth showing: those named in `differing` (all of them when it is not a list). */
export function visibleParams(params: unknown, differing: unknown): Array<[string, ParamValue]> {
  if (typeof params !== "object" || params === null) return [];
  const keep = Array.isArray(differing) ? new Set(differing.filter((d): d is string => typeof d === "string")) : null;
  const out: Array<[string, ParamValue]> = [];
  for (const [k, v] of Object.entries(params as Record<string, unknown>)) {
    if (keep && !keep.has(k)) continue;
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") out.push([k, v]);
    else if (v !== null && v !== undefined) out.push([k, String(v)]);
  }
  return out;
}

export function paramsEl(params: Array<[string, ParamValue]>): HTMLElement {
  return h(
    "dl",
    { class: "kls-compare-params", "data-testid": "kls-compare-params" },
    ...params.map(([k, v]) =>
      h("div", { class: "kls-compare-param", "data-param": k }, h("dt", { text: paramName(k) }), h("dd", { text: paramText(k, v) })),
    ),
  );
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${grouped(n)} ${n === 1 ? one : many}`;
}

export function planSummary(count: number, reused: number): string {
  const pay = Math.max(0, count - reused);
  return `${plural(count, "task")} (${grouped(reused)} reused from history, ${grouped(pay)} to pay)`;
}

export function confirmText(count: number, reused: number): string {
  const pay = Math.max(0, count - reused);
  const also = reused > 0 ? ` (${grouped(reused)} reused from history.)` : "";
  return `Run ${plural(count, "task")}? This sends ${plural(pay, "paid request")}.${also}`;
}

export function num(v: unknown, d: number): number {
  return typeof v === "number" && Number.isFinite(v) ? v : d;
}

/** The `compare_plan` reply, checked; null when it is not usable. */
export function readPlan(raw: unknown): ComparePlan | null {
  if (typeof raw !== "object" || raw === null) return null;
  const p = raw as Record<string, unknown>;
  if (typeof p["count"] !== "number" || !Number.isFinite(p["count"])) return null;
  const variants: PlanVariant[] = Array.isArray(p["variants"])
    ? p["variants"]
        .filter((v): v is Record<string, unknown> => typeof v === "object" && v !== null)
        .map((v) => ({ label: String(v["label"] ?? ""), params: (typeof v["params"] === "object" && v["params"] !== null ? v["params"] : {}) as Record<string, ParamValue> }))
    : [];
  const differing = Array.isArray(p["differing"]) ? p["differing"].filter((d): d is string => typeof d === "string") : [];
  const plan: ComparePlan = { count: Math.max(0, Math.floor(p["count"])), variants, differing, reused: Math.max(0, Math.floor(num(p["reused"], 0))), ...readPlanCosts(p) };
  const above = p["confirm_above"];
  if (typeof above === "number" && Number.isFinite(above)) plan.confirm_above = above;
  return plan;
}

/** A plan's cost (studio/_spending.py), checked: strings stay text. */
export function readPlanCosts(p: Record<string, unknown>): PlanCosts {
  return {
    credits: num(p["credits"], 0),
    unknown: Math.max(0, Math.floor(num(p["unknown"], 0))),
    cost_text: typeof p["cost_text"] === "string" ? p["cost_text"] : "",
    over_budget: typeof p["over_budget"] === "string" ? p["over_budget"] : null,
  };
}

/** The `comparison` trait, checked; null when absent or unusable. */
export function readComparison(raw: unknown): Comparison | null {
  if (typeof raw !== "object" || raw === null) return null;
  const c = raw as Record<string, unknown>;
  if (typeof c["group_id"] !== "string" || !Array.isArray(c["variants"])) return null;
  const variants: Variant[] = [];
  c["variants"].forEach((rv: unknown, i: number) => {
    if (typeof rv !== "object" || rv === null) return;
    const v = rv as Record<string, unknown>;
    const err = typeof v["error"] === "object" && v["error"] !== null ? (v["error"] as Record<string, unknown>) : null;
    const rating = v["rating"];
    variants.push({
      local_id: typeof v["local_id"] === "string" ? v["local_id"] : null,
      label: typeof v["label"] === "string" && v["label"] !== "" ? v["label"] : String.fromCharCode(65 + (i % 26)),
      params: (typeof v["params"] === "object" && v["params"] !== null ? v["params"] : {}) as Record<string, ParamValue>,
      status: (typeof v["status"] === "string" ? v["status"] : "unknown") as TaskStatus,
      progress: Math.min(100, Math.max(0, num(v["progress"], 0))),
      has_video: v["has_video"] === true,
      poster: typeof v["poster"] === "string" ? v["poster"] : null,
      reused: v["reused"] === true,
      rating: typeof rating === "number" && Number.isInteger(rating) && rating >= 1 && rating <= 5 ? rating : null,
      winner: v["winner"] === true,
      note: typeof v["note"] === "string" ? v["note"] : "",
      rating_mean: typeof v["rating_mean"] === "number" && Number.isFinite(v["rating_mean"]) ? v["rating_mean"] : null,
      rating_count: Math.max(0, Math.floor(num(v["rating_count"], 0))),
      raters: readRaters(v["raters"]),
      error: err ? { code: typeof err["code"] === "string" ? err["code"] : null, message: String(err["message"] ?? "") } : null,
      measures: readMeasures(v["measures"]),
    });
  });
  return {
    group_id: c["group_id"],
    title: typeof c["title"] === "string" ? c["title"] : "",
    confirm_above: num(c["confirm_above"], Number.NaN),
    differing: Array.isArray(c["differing"]) ? c["differing"].filter((d): d is string => typeof d === "string") : [],
    variants,
    user: typeof c["user"] === "string" ? c["user"] : "",
    blind: c["blind"] === true,
    // Anything unclear counts as still blind: parameters are shown only when Python says so.
    revealed: c["blind"] !== true || c["revealed"] === true,
    summary: readSummary(c["summary"]),
  };
}

/** Each rater's judgement, checked (bad entries dropped). */
export function readRaters(raw: unknown): RaterRating[] {
  if (!Array.isArray(raw)) return [];
  const out: RaterRating[] = [];
  for (const r of raw) {
    if (typeof r !== "object" || r === null) continue;
    const o = r as Record<string, unknown>;
    if (typeof o["user"] !== "string") continue;
    const rating = o["rating"];
    out.push({
      user: o["user"],
      rating: typeof rating === "number" && Number.isInteger(rating) && rating >= 1 && rating <= 5 ? rating : null,
      winner: o["winner"] === true,
      note: typeof o["note"] === "string" ? o["note"] : "",
    });
  }
  return out;
}

/** "mean 3.5 of 2 ratings" (or "no ratings yet"): what everyone thinks, in one line. */
export function ratingSummaryText(v: Pick<Variant, "rating_mean" | "rating_count">): string {
  if (v.rating_count === 0 || v.rating_mean === null) return "no ratings yet";
  const mean = Math.round(v.rating_mean * 100) / 100;
  return `mean ${mean} of ${plural(v.rating_count, "rating")}`;
}

/** One line per rater: "ada: 4/5, winner — sharp". Plain text (a tooltip and a list show it). */
export function raterLines(raters: RaterRating[]): string[] {
  return raters.map((r) => {
    const parts = [r.rating === null ? "no rating" : `${r.rating}/5`];
    if (r.winner) parts.push("winner");
    const note = r.note ? ` — ${r.note}` : "";
    return `${r.user}: ${parts.join(", ")}${note}`;
  });
}

export function timeText(t: number): string {
  return `${t.toFixed(1)}`;
}

export const defaultClock: FrameClock = {
  request: (cb) => requestAnimationFrame(() => cb()),
  cancel: (id) => cancelAnimationFrame(id),
};

export interface CompareDeps {
  model: AnyModel<Traits>;
  rpc: Rpc;
  scope: Scope;
  video: VideoDeps;
  rules: () => Rules;
  clock?: FrameClock;
}
