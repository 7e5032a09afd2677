// The A/B comparison (issue 5): a collapsible "Compare" section with
//  - a grid builder (prompts and negative prompts one per line, resolution and duration boxes, with
//    and without the last frame) that asks Python for the plan (`compare_plan`, debounced) and shows
//    how many tasks it means — and how many are paid — before anything is sent; "Run comparison"
//    sends `compare_run`, after an explicit confirmation above `confirm_above`;
//  - the comparison on screen (`comparison` trait): one cell per variant with its differing params,
//    status, error, video, rating, winner and note (`rate`), and one control bar that plays every
//    video on one timeline (compare-sync.ts).
// Every string goes in as text. A new comparison (another group_id) gets a fresh child scope, so the
// old one's players, listeners, frame loop and object URLs go away with it.

import type { AnyModel } from "@anywidget/types";
import { CompareSync, type FrameClock, type SyncState } from "../compare-sync";
import { h, replace } from "../dom";
import { grouped } from "../format";
import { TICKING_STATUSES } from "../protocol.gen";
import { errorText, RpcError, type Rpc } from "../rpc";
import { Scope } from "../scope";
import type { Axes, Comparison, ComparePlan, ParamValue, PlanCosts, PlanVariant, Rules, TaskStatus, Traits, Variant } from "../types";
import { VideoPlayer, type VideoDeps } from "../video";
import { readCard } from "./cards";

export const PLAN_DEBOUNCE_MS = 300;

// "queued": a variant waiting for its turn (Python runs a few at a time).
// Statuses shown with a progress bar: Python's statuses.TICKING, generated.
const RUNNING = new Set<string>(TICKING_STATUSES);

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

function paramsEl(params: Array<[string, ParamValue]>): HTMLElement {
  return h(
    "dl",
    { class: "kls-compare-params", "data-testid": "kls-compare-params" },
    ...params.map(([k, v]) =>
      h("div", { class: "kls-compare-param", "data-param": k }, h("dt", { text: paramName(k) }), h("dd", { text: paramText(k, v) })),
    ),
  );
}

function plural(n: number, one: string, many = `${one}s`): string {
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

function num(v: unknown, d: number): number {
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
      error: err ? { code: typeof err["code"] === "string" ? err["code"] : null, message: String(err["message"] ?? "") } : null,
    });
  });
  return {
    group_id: c["group_id"],
    title: typeof c["title"] === "string" ? c["title"] : "",
    confirm_above: num(c["confirm_above"], Number.NaN),
    differing: Array.isArray(c["differing"]) ? c["differing"].filter((d): d is string => typeof d === "string") : [],
    variants,
  };
}

function timeText(t: number): string {
  return `${t.toFixed(1)}`;
}

const defaultClock: FrameClock = {
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

// --- the grid builder ---

interface CurrentPlan {
  rev: number;
  axes: Axes;
  plan: ComparePlan;
}

class Builder {
  readonly el: HTMLElement;
  private readonly prompts: HTMLTextAreaElement;
  private readonly negatives: HTMLTextAreaElement;
  private readonly resolutions: HTMLElement;
  private readonly durations: HTMLElement;
  private readonly tail: HTMLInputElement;
  private readonly summary: HTMLElement;
  private readonly variants: HTMLElement;
  private readonly run: HTMLButtonElement;
  private readonly confirmBox: HTMLElement;
  private readonly confirmLine: HTMLElement;
  private readonly confirmButton: HTMLButtonElement;
  private readonly cancelButton: HTMLButtonElement;
  private readonly message: HTMLElement;
  private rev = 0;
  private plan: CurrentPlan | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private busy = false;
  private confirming: CurrentPlan | null = null;
  active = false;

  constructor(
    private readonly deps: CompareDeps,
    private readonly threshold: () => number | null,
  ) {
    const { scope } = deps;
    this.prompts = h("textarea", { rows: 3, "data-testid": "kls-compare-prompts", "aria-label": "Prompts to compare, one per line", placeholder: "One prompt per line (empty: the form's prompt)" });
    this.negatives = h("textarea", { rows: 2, "data-testid": "kls-compare-negatives", "aria-label": "Negative prompts to compare, one per line", placeholder: "Optional: one negative prompt per line" });
    this.resolutions = h("span", { class: "kls-compare-boxes" });
    this.durations = h("span", { class: "kls-compare-boxes" });
    this.tail = h("input", { type: "checkbox", "data-testid": "kls-compare-tail" });
    this.summary = h("div", { class: "kls-compare-summary", "data-testid": "kls-compare-plan", "aria-live": "polite" });
    this.variants = h("ul", { class: "kls-compare-plan-variants", "data-testid": "kls-compare-plan-variants" });
    this.run = h("button", { type: "button", class: "kls-primary", "data-testid": "kls-compare-run", text: "Run comparison" });
    this.confirmLine = h("span", { "data-testid": "kls-compare-confirm-text" });
    this.confirmButton = h("button", { type: "button", class: "kls-primary", "data-testid": "kls-compare-confirm", text: "Confirm" });
    this.cancelButton = h("button", { type: "button", "data-testid": "kls-compare-cancel", text: "Cancel" });
    this.confirmBox = h("span", { class: "kls-compare-confirm", "data-testid": "kls-compare-confirm-box", role: "alertdialog", hidden: true }, this.confirmLine, this.confirmButton, this.cancelButton);
    this.message = h("span", { class: "kls-note", "data-testid": "kls-compare-message", "aria-live": "polite" });

    this.el = h(
      "div",
      { class: "kls-compare-builder" },
      h("label", { class: "kls-field" }, h("span", { text: "Prompts (one per line)" }), this.prompts),
      h("label", { class: "kls-field" }, h("span", { text: "Negative prompts (one per line, optional)" }), this.negatives),
      h(
        "div",
        { class: "kls-settings" },
        h("span", { class: "kls-compare-axis" }, h("span", { text: "Resolutions" }), this.resolutions),
        h("span", { class: "kls-compare-axis" }, h("span", { text: "Durations" }), this.durations),
        h("label", {}, this.tail, "With and without the last frame"),
      ),
      h("div", { class: "kls-note", text: "Nothing ticked or typed on an axis means the form's value." }),
      this.summary,
      this.variants,
      h("div", { class: "kls-row" }, this.run, this.confirmBox, this.message),
    );

    for (const el of [this.prompts, this.negatives]) scope.listen(el, "input", () => this.changed());
    for (const el of [this.resolutions, this.durations, this.tail]) scope.listen(el, "change", () => this.changed());
    scope.listen(this.run, "click", () => void this.onRun());
    scope.listen(this.confirmButton, "click", () => {
      const c = this.confirming;
      this.hideConfirm();
      if (c) void this.send(c, true);
    });
    scope.listen(this.cancelButton, "click", () => {
      this.hideConfirm();
      this.say("", false);
    });
    this.applyRules();
    this.showPlan();
  }

  /** Rebuilds the resolution and duration boxes from the rules, keeping what was ticked. */
  applyRules(): void {
    const rules = this.deps.rules();
    const boxes = (box: HTMLElement, testid: string, values: Array<string | number>, unit: string) => {
      const ticked = new Set(Array.from(box.querySelectorAll<HTMLInputElement>("input:checked")).map((i) => i.value));
      replace(
        box,
        ...values.map((v) => h("label", {}, h("input", { type: "checkbox", "data-testid": testid, value: String(v), checked: ticked.has(String(v)) }), `${v}${unit}`)),
      );
    };
    boxes(this.resolutions, "kls-compare-resolution", rules.resolutions, "");
    boxes(this.durations, "kls-compare-duration", rules.durations, " s");
  }

  axes(): Axes {
    const ticked = (box: HTMLElement) => Array.from(box.querySelectorAll<HTMLInputElement>("input:checked")).map((i) => i.value);
    return {
      prompts: linesOf(this.prompts.value),
      negative_prompts: linesOf(this.negatives.value),
      resolutions: ticked(this.resolutions),
      durations: ticked(this.durations).map(Number).filter((d) => Number.isFinite(d)),
      use_tail: this.tail.checked ? [true, false] : [],
    };
  }

  /** The axes (or the form and pictures they default to) changed: the plan is stale. */
  changed(): void {
    this.rev++;
    if (this.confirming) {
      this.hideConfirm();
      this.say("The grid changed; check the plan and run again.", false);
    }
    this.schedule();
  }

  setActive(on: boolean): void {
    this.active = on;
    if (on && this.plan?.rev !== this.rev) this.schedule();
  }

  private schedule(): void {
    const { scope } = this.deps;
    scope.clearTimeout(this.timer);
    this.timer = null;
    if (!this.active) return;
    this.summary.textContent = "Planning…";
    this.summary.className = "kls-compare-summary kls-note";
    this.timer = scope.setTimeout(() => {
      this.timer = null;
      void this.requestPlan();
    }, PLAN_DEBOUNCE_MS);
  }

  /** Asks Python for the plan of the axes on screen now. Resolves null when it failed or went stale. */
  requestPlan(): Promise<CurrentPlan | null> {
    const rev = this.rev;
    const axes = this.axes();
    return this.deps.rpc
      .request<unknown>({ kind: "compare_plan", axes })
      .then(({ data }): CurrentPlan | null => {
        if (rev !== this.rev) return null;
        const plan = readPlan(data);
        if (!plan) throw new RpcError("Python's plan could not be read.");
        this.plan = { rev, axes, plan };
        this.showPlan();
        return this.plan;
      })
      .catch((e: unknown): null => {
        if (rev === this.rev) {
          this.plan = null;
          this.summary.textContent = `Could not plan the comparison: ${errorText(e)}`;
          this.summary.className = "kls-compare-summary kls-bad-text";
          replace(this.variants);
        }
        return null;
      });
  }

  private showPlan(): void {
    const cur = this.plan;
    if (!cur) {
      this.summary.textContent = this.active ? "Planning…" : "";
      this.summary.className = "kls-compare-summary kls-note";
      replace(this.variants);
      return;
    }
    this.summary.textContent = [planSummary(cur.plan.count, cur.plan.reused), cur.plan.cost_text, cur.plan.over_budget].filter(Boolean).join(" — ");
    this.summary.className = "kls-compare-summary";
    replace(
      this.variants,
      ...cur.plan.variants.map((v) =>
        h(
          "li",
          { "data-testid": "kls-compare-plan-variant", "data-label": v.label },
          h("strong", { class: "kls-compare-label", text: v.label }),
          paramsEl(visibleParams(v.params, cur.plan.differing.length > 0 || cur.plan.variants.length <= 1 ? cur.plan.differing : null)),
        ),
      ),
    );
  }

  private async onRun(): Promise<void> {
    if (this.busy || this.confirming) return;
    this.say("", false);
    let cur = this.plan?.rev === this.rev ? this.plan : null;
    if (!cur) {
      // Never run blind: get the plan of exactly what is on screen first.
      this.deps.scope.clearTimeout(this.timer);
      this.timer = null;
      this.setBusy(true);
      const rev = this.rev;
      cur = await this.requestPlan();
      this.setBusy(false);
      if (!cur) {
        if (rev !== this.rev) this.say("The grid changed while it was being planned; check the plan and run again.", false);
        return;
      }
    }
    if (cur.plan.count <= 0) {
      this.say("The plan has no tasks to run.", true);
      return;
    }
    const above = cur.plan.confirm_above ?? this.threshold();
    // Without a known threshold Python decides: it refuses an unconfirmed run above its limit.
    if (above !== null && cur.plan.count > above) this.showConfirm(cur);
    else await this.send(cur, false);
  }

  private showConfirm(cur: CurrentPlan): void {
    this.confirming = cur;
    this.confirmLine.textContent = confirmText(cur.plan.count, cur.plan.reused);
    this.run.hidden = true;
    this.confirmBox.hidden = false;
    this.confirmButton.focus();
  }

  /** Escape: closes the confirmation. True when it was open. */
  escape(): boolean {
    if (!this.confirming) return false;
    this.hideConfirm();
    this.say("", false);
    this.run.focus();
    return true;
  }

  private hideConfirm(): void {
    this.confirming = null;
    this.confirmBox.hidden = true;
    this.run.hidden = false;
  }

  private async send(cur: CurrentPlan, confirmed: boolean): Promise<void> {
    this.setBusy(true);
    this.say("Sending…", false);
    try {
      await this.deps.rpc.request<{ group_id: string }>({ kind: "compare_run", axes: cur.axes, confirmed });
      this.say(`Comparison started: ${plural(cur.plan.count, "task")}.`, false);
    } catch (e) {
      if (!confirmed && e instanceof RpcError && e.field === "confirmed") {
        this.say("", false);
        this.showConfirm(cur);
      } else this.say(errorText(e), true);
    } finally {
      this.setBusy(false);
    }
  }

  private setBusy(on: boolean): void {
    this.busy = on;
    this.run.disabled = on;
  }

  private say(text: string, bad: boolean): void {
    this.message.textContent = text;
    this.message.className = bad ? "kls-bad-text" : "kls-note";
  }
}

// --- one variant's cell ---

class Cell {
  readonly el: HTMLElement;
  private readonly labelEl = h("strong", { class: "kls-compare-label", "data-testid": "kls-compare-label" });
  private readonly statusEl = h("span", { class: "kls-status", "data-testid": "kls-compare-status" });
  private readonly reusedEl = h("span", { class: "kls-badge", "data-testid": "kls-compare-reused", text: "reused", hidden: true });
  private readonly bar = h("div");
  private readonly progressEl = h("div", { class: "kls-progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-label": "Progress", "data-testid": "kls-compare-progress" }, this.bar);
  private readonly paramsBox = h("div");
  private readonly errorEl = h("div", { class: "kls-bad-text", "data-testid": "kls-compare-error", hidden: true });
  private readonly videoSlot = h("div", { class: "kls-compare-video-slot" });
  private readonly rating: HTMLSelectElement;
  private readonly winner: HTMLInputElement;
  private readonly note: HTMLInputElement;
  private readonly rateMsg = h("div", { class: "kls-bad-text", "data-testid": "kls-compare-rate-error" });
  private player: VideoPlayer | null = null;
  private noteSent = "";
  variant: Variant;

  constructor(
    variant: Variant,
    differing: string[],
    private readonly order: number,
    private readonly board: Board,
  ) {
    this.variant = variant;
    const scope = board.groupScope;
    this.rating = h(
      "select",
      { "data-testid": "kls-compare-rating", "aria-label": "Rating, 1 to 5" },
      h("option", { value: "", text: "No rating" }),
      ...[1, 2, 3, 4, 5].map((n) => h("option", { value: String(n), text: `${"★".repeat(n)}${"☆".repeat(5 - n)} ${n}` })),
    );
    this.winner = h("input", { type: "checkbox", "data-testid": "kls-compare-winner" });
    this.note = h("input", { type: "text", class: "kls-compare-note", "data-testid": "kls-compare-note", placeholder: "Note", "aria-label": "Note" });
    this.el = h(
      "div",
      { class: "kls-compare-cell", "data-testid": "kls-compare-cell" },
      h("div", { class: "kls-card-head" }, h("span", {}, this.labelEl, " ", this.reusedEl), this.statusEl),
      this.paramsBox,
      this.progressEl,
      this.errorEl,
      this.videoSlot,
      h("div", { class: "kls-row kls-compare-judge" }, this.rating, h("label", {}, this.winner, "Winner"), this.note),
      this.rateMsg,
    );
    scope.listen(this.rating, "change", () => {
      // "No rating" sends null: Python removes the rating.
      const n = this.rating.value === "" ? null : Number(this.rating.value);
      if (n === null || (Number.isInteger(n) && n >= 1 && n <= 5)) this.rate({ rating: n });
    });
    scope.listen(this.winner, "change", () => this.rate({ winner: this.winner.checked }));
    const saveNote = () => {
      if (this.note.value === this.noteSent) return;
      this.noteSent = this.note.value;
      this.rate({ note: this.note.value });
    };
    scope.listen(this.note, "change", saveNote);
    scope.listen(this.note, "blur", saveNote);
    this.update(variant, differing);
  }

  update(v: Variant, differing: string[]): void {
    this.variant = v;
    this.el.dataset["label"] = v.label;
    this.progressEl.setAttribute("aria-label", `Progress of variant ${v.label}`);
    this.el.dataset["status"] = v.status;
    if (v.local_id) this.el.dataset["localId"] = v.local_id;
    this.labelEl.textContent = v.label;
    this.reusedEl.hidden = !v.reused;
    replace(this.paramsBox, paramsEl(visibleParams(v.params, differing)));
    this.showStatus(v.status, v.progress);
    if (v.error) {
      this.errorEl.textContent = v.error.code ? `${v.error.code}: ${v.error.message}` : v.error.message;
      this.errorEl.hidden = false;
    } else {
      this.errorEl.textContent = "";
      this.errorEl.hidden = true;
    }
    const judgeable = v.local_id !== null;
    this.rating.disabled = !judgeable;
    this.winner.disabled = !judgeable;
    this.note.disabled = !judgeable;
    const r = v.rating === null ? "" : String(v.rating);
    if (this.rating.value !== r) this.rating.value = r;
    this.winner.checked = v.winner;
    // Never overwrite a note being typed.
    if (this.note.ownerDocument.activeElement !== this.note) {
      if (this.note.value !== v.note) this.note.value = v.note;
      this.noteSent = v.note;
    }
    if (v.has_video) this.ensureVideo();
  }

  /** A `task` message for this cell's task: live status and progress between trait updates. */
  task(status: TaskStatus, progress: number, hasVideo: boolean): void {
    this.showStatus(status, progress);
    if (hasVideo) this.ensureVideo();
  }

  private showStatus(status: TaskStatus, progress: number): void {
    this.statusEl.textContent = status;
    this.el.dataset["status"] = status;
    const running = RUNNING.has(status);
    this.progressEl.hidden = !running;
    const pct = Math.round(status === "completed" ? 100 : progress);
    this.progressEl.setAttribute("aria-valuenow", String(pct));
    this.bar.style.width = `${pct}%`;
  }

  private ensureVideo(): void {
    const id = this.variant.local_id;
    if (this.player || id === null) return;
    const player = new VideoPlayer(id, this.board.videoDeps);
    const video = player.video;
    // The shared control bar drives it: no own controls, no own loop; one audio source (the sync).
    video.setAttribute("data-testid", "kls-compare-video");
    video.removeAttribute("controls");
    video.removeAttribute("loop");
    video.loop = false;
    video.setAttribute("preload", "auto");
    video.setAttribute("playsinline", "");
    video.muted = true;
    this.player = player;
    this.videoSlot.appendChild(player.el);
    this.board.addVideo(video, this.order);
  }

  private rate(change: { rating?: number | null; winner?: boolean; note?: string }): void {
    const id = this.variant.local_id;
    if (id === null) return;
    this.rateMsg.textContent = "";
    this.board.rpc.request({ kind: "rate", local_id: id, ...change }).catch((e: unknown) => {
      this.rateMsg.textContent = `Not saved: ${errorText(e)}`;
    });
  }
}

// --- the comparison on screen: cells and the control bar ---

class Board {
  readonly el: HTMLElement;
  private readonly title = h("h4", { "data-testid": "kls-compare-title" });
  private readonly grid = h("div", { class: "kls-compare-grid", "data-testid": "kls-compare-grid" });
  private readonly play: HTMLButtonElement;
  private readonly seek: HTMLInputElement;
  private readonly loop: HTMLInputElement;
  private readonly time = h("span", { class: "kls-times", "data-testid": "kls-compare-time" });
  private readonly cells = new Map<string, Cell>();
  private groupId: string | null = null;
  private labels = "";
  private sync: CompareSync | null = null;
  private dragging = false;
  groupScope: Scope;
  videoDeps: VideoDeps;

  constructor(private readonly deps: CompareDeps) {
    const { scope } = deps;
    this.play = h("button", { type: "button", "data-testid": "kls-compare-play", "aria-pressed": "false", text: "Play", disabled: true });
    this.seek = h("input", { type: "range", min: 0, max: 0, step: 0.01, value: 0, "data-testid": "kls-compare-seek", "aria-label": "Seek all videos", disabled: true });
    this.loop = h("input", { type: "checkbox", "data-testid": "kls-compare-loop", checked: true });
    this.el = h(
      "div",
      { class: "kls-compare-board", hidden: true },
      this.title,
      h("div", { class: "kls-row kls-compare-controls", "data-testid": "kls-compare-controls" }, this.play, this.seek, this.time, h("label", {}, this.loop, "Loop")),
      this.grid,
    );
    scope.listen(this.play, "click", () => this.sync?.toggle());
    scope.listen(this.seek, "input", () => {
      this.dragging = true;
      this.sync?.seek(Number(this.seek.value));
    });
    scope.listen(this.seek, "change", () => {
      this.dragging = false;
      this.sync?.seek(Number(this.seek.value));
    });
    scope.listen(this.loop, "change", () => this.sync?.setLoop(this.loop.checked));
    scope.add(() => this.clear());
    // Placeholders until the first comparison arrives.
    this.groupScope = new Scope();
    this.groupScope.dispose();
    this.videoDeps = { ...deps.video, scope: this.groupScope };
  }

  get rpc(): Rpc {
    return this.deps.rpc;
  }

  /** Shows `c` (null hides the board). Another group (or other cells) rebuilds; otherwise in place. */
  show(c: Comparison | null): boolean {
    if (!c) {
      this.clear();
      this.el.hidden = true;
      return false;
    }
    const labels = JSON.stringify(c.variants.map((v) => v.label));
    const fresh = c.group_id !== this.groupId || labels !== this.labels;
    if (fresh) this.build(c, labels);
    else c.variants.forEach((v) => this.cells.get(v.label)?.update(v, c.differing));
    this.title.textContent = c.title || `Comparison ${c.group_id}`;
    this.el.hidden = false;
    return fresh;
  }

  task(raw: unknown): void {
    const card = readCard(raw);
    if (!card) return;
    for (const cell of this.cells.values()) {
      if (cell.variant.local_id === card.local_id) cell.task(card.status, card.progress, card.has_video);
    }
  }

  pause(): void {
    if (this.sync?.playing) this.sync.pause();
  }

  addVideo(video: HTMLVideoElement, order: number): void {
    const sync = this.sync;
    const scope = this.groupScope;
    if (!sync) return;
    sync.add(video, order);
    scope.listen(video, "loadedmetadata", () => sync.ready(video));
    scope.listen(video, "durationchange", () => sync.tick());
    scope.listen(video, "emptied", () => sync.unready(video));
    scope.listen(video, "ended", () => sync.tick());
    scope.listen(video, "timeupdate", () => {
      if (sync.leader === video) sync.tick();
    });
  }

  private build(c: Comparison, labels: string): void {
    this.clear();
    this.groupId = c.group_id;
    this.labels = labels;
    const scope = new Scope();
    this.groupScope = scope;
    this.videoDeps = { ...this.deps.video, scope };
    const sync = new CompareSync(this.deps.clock ?? defaultClock, (s) => this.showControls(s));
    this.sync = sync;
    sync.setLoop(this.loop.checked);
    // Teardowns run in reverse: the sync stops (pauses, cancels its frame) after the players stop.
    scope.add(() => sync.stop());
    // A square-ish grid (2x2 for four variants), not whatever the width happens to fit.
    const columns = Math.max(1, Math.ceil(Math.sqrt(c.variants.length)));
    this.grid.style.setProperty("--kls-compare-cols", String(columns));
    c.variants.forEach((v, i) => {
      const cell = new Cell(v, c.differing, i, this);
      this.cells.set(v.label, cell);
      this.grid.appendChild(cell.el);
    });
    this.showControls(sync.state());
  }

  private clear(): void {
    this.groupScope.dispose();
    this.sync = null;
    this.groupId = null;
    this.labels = "";
    this.cells.clear();
    replace(this.grid);
    this.dragging = false;
    this.showControls({ playing: false, loop: this.loop.checked, time: 0, end: null, ready: false });
  }

  private showControls(s: SyncState): void {
    this.play.disabled = !s.ready;
    const label = s.playing ? "Pause" : "Play";
    if (this.play.textContent !== label) this.play.textContent = label;
    this.play.setAttribute("aria-pressed", String(s.playing));
    this.seek.disabled = s.end === null;
    const max = String(s.end ?? 0);
    if (this.seek.max !== max) this.seek.max = max;
    if (!this.dragging) {
      const v = String(Math.round(s.time * 100) / 100);
      if (this.seek.value !== v) this.seek.value = v;
    }
    const text = s.end === null ? "" : `${timeText(s.time)} / ${timeText(s.end)} s`;
    if (this.time.textContent !== text) this.time.textContent = text;
  }
}

// --- the section ---

export class CompareView {
  readonly el: HTMLElement;
  private readonly toggleButton: HTMLButtonElement;
  private readonly body: HTMLElement;
  private readonly builder: Builder;
  private readonly board: Board;
  private readonly model: AnyModel<Traits>;
  private open = false;
  /** A new comparison arrived (the studio switches to this view). */
  onFresh: () => void = () => {};

  constructor(deps: CompareDeps) {
    const { model, scope } = deps;
    this.model = model;
    this.board = new Board(deps);
    this.builder = new Builder(deps, () => {
      const n = readComparison(model.get("comparison"))?.confirm_above;
      return typeof n === "number" && Number.isFinite(n) ? n : null;
    });
    this.toggleButton = h("button", { type: "button", class: "kls-compare-toggle", "data-testid": "kls-compare-toggle", "aria-expanded": "false", text: "▸ Compare" });
    this.body = h("div", { class: "kls-compare-body", "data-testid": "kls-compare-body", hidden: true }, this.builder.el, this.board.el);
    this.el = h("section", { class: "kls-section kls-compare", "data-testid": "kls-compare" }, this.toggleButton, this.body);

    scope.listen(this.toggleButton, "click", () => this.setOpen(!this.open));
    scope.on(model, "change:comparison", () => this.showComparison());
    scope.on(model, "change:rules", () => this.builder.applyRules());
    // Empty axes mean the form's values, and "reused" depends on the pictures: re-plan.
    scope.on(model, "change:form", () => this.builder.changed());
    scope.on(model, "change:pictures", () => this.builder.changed());
    scope.on(model, "msg:custom", (msg: unknown) => {
      if (typeof msg === "object" && msg !== null && (msg as { kind?: unknown }).kind === "task") this.board.task((msg as { card?: unknown }).card);
    });
    this.showComparison();
  }

  setOpen(open: boolean): void {
    this.open = open;
    this.body.hidden = !open;
    this.toggleButton.setAttribute("aria-expanded", String(open));
    this.toggleButton.textContent = open ? "▾ Compare" : "▸ Compare";
    this.builder.setActive(open);
    if (!open) this.board.pause();
  }

  private showComparison(): void {
    const fresh = this.board.show(readComparison(this.model.get("comparison")));
    // A new comparison on screen: show it.
    if (fresh && !this.open) this.setOpen(true);
    if (fresh) this.onFresh();
  }

  escape(): boolean {
    return this.builder.escape();
  }

  get hasComparison(): boolean {
    return readComparison(this.model.get("comparison")) !== null;
  }
}
