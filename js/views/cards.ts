// Task cards, newest first: status, progress, elapsed and remaining time, errors, and the video
// once a task completes. Cards come from the `snapshot` reply and from `task` messages; between
// updates the times tick locally once a second (Python is not asked).

import { h, replace } from "../dom";
import { seconds } from "../format";
import { TICKING_STATUSES } from "../protocol.gen";
import type { TaskCard } from "../types";
import { VideoPlayer, type VideoDeps } from "../video";

export const UNKNOWN_TEXT =
  "The create request's answer was lost; the task may exist. kling-studio keeps looking for it — see the history.";

// The statuses shown with a running clock: Python's statuses.TICKING, generated.
const TICKING = new Set<string>(TICKING_STATUSES);

export function isTicking(status: string): boolean {
  return TICKING.has(status);
}

/** Elapsed and remaining seconds, `nowMs - receivedMs` after the card arrived. Pure. */
export function tickTimes(card: TaskCard, receivedMs: number, nowMs: number): { elapsed: number; remaining: number | null } {
  if (!isTicking(card.status)) return { elapsed: card.elapsed, remaining: null };
  const dt = Math.max(0, (nowMs - receivedMs) / 1000);
  return {
    elapsed: card.elapsed + dt,
    remaining: card.remaining === null ? null : Math.max(0, card.remaining - dt),
  };
}

export function timesText(card: TaskCard, receivedMs: number, nowMs: number): string {
  const { elapsed, remaining } = tickTimes(card, receivedMs, nowMs);
  if (!isTicking(card.status)) return `Took ${seconds(elapsed)}`;
  if (remaining === null) return `Elapsed ${seconds(elapsed)}`;
  return remaining > 0 ? `Elapsed ${seconds(elapsed)} · about ${seconds(remaining)} left` : `Elapsed ${seconds(elapsed)} · finishing…`;
}

/** A card from Python, or null when it lacks what we need to show it. */
export function readCard(raw: unknown): TaskCard | null {
  if (typeof raw !== "object" || raw === null) return null;
  const c = raw as Partial<TaskCard>;
  if (typeof c.local_id !== "string") return null;
  const num = (v: unknown, d: number): number => (typeof v === "number" && Number.isFinite(v) ? v : d);
  const s = (c.settings ?? {}) as Partial<TaskCard["settings"]>;
  const err = c.error && typeof c.error === "object" ? c.error : null;
  return {
    local_id: c.local_id,
    task_id: typeof c.task_id === "string" ? c.task_id : null,
    status: (typeof c.status === "string" ? c.status : "unknown") as TaskCard["status"],
    progress: Math.min(100, Math.max(0, num(c.progress, 0))),
    prompt: typeof c.prompt === "string" ? c.prompt : "",
    created: num(c.created, 0),
    elapsed: num(c.elapsed, 0),
    remaining: typeof c.remaining === "number" && Number.isFinite(c.remaining) ? c.remaining : null,
    error: err ? { code: typeof err.code === "string" ? err.code : null, message: String(err.message ?? "") } : null,
    has_video: c.has_video === true,
    settings: {
      resolution: typeof s.resolution === "string" ? s.resolution : "",
      duration: num(s.duration, 0),
      generate_audio: s.generate_audio === true,
    },
  };
}

export function settingsText(resolution: string, duration: number, audio: boolean): string {
  return `${resolution} · ${duration} s · ${audio ? "audio" : "no audio"}`;
}

class CardView {
  readonly el: HTMLElement;
  private readonly status = h("span", { class: "kls-status" });
  private readonly ids = h("span", { class: "kls-note" });
  private readonly prompt = h("div", { class: "kls-prompt" });
  private readonly bar = h("div");
  private readonly progress = h("div", { class: "kls-progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "data-testid": "kls-progress" }, this.bar);
  private readonly times = h("div", { class: "kls-times", "data-testid": "kls-times" });
  private readonly settings = h("div", { class: "kls-note" });
  private readonly note = h("div", { "data-testid": "kls-card-note" });
  private readonly videoSlot = h("div");
  private player: VideoPlayer | null = null;
  card: TaskCard;
  receivedMs: number;

  constructor(card: TaskCard, nowMs: number, private readonly deps: VideoDeps) {
    this.card = card;
    this.receivedMs = nowMs;
    this.el = h(
      "div",
      { class: "kls-card", "data-testid": "kls-card" },
      h("div", { class: "kls-card-head" }, this.status, this.ids),
      this.prompt,
      this.progress,
      this.times,
      this.settings,
      this.note,
      this.videoSlot,
    );
    this.update(card, nowMs);
  }

  update(card: TaskCard, nowMs: number): void {
    this.card = card;
    this.receivedMs = nowMs;
    this.el.dataset["status"] = card.status;
    this.el.dataset["localId"] = card.local_id;
    this.status.textContent = card.status;
    this.ids.textContent = card.task_id ?? card.local_id;
    this.prompt.textContent = card.prompt;
    const pct = Math.round(card.status === "completed" ? 100 : card.progress);
    this.progress.setAttribute("aria-valuenow", String(pct));
    this.bar.style.width = `${pct}%`;
    this.settings.textContent = settingsText(card.settings.resolution, card.settings.duration, card.settings.generate_audio);
    this.tick(nowMs);
    if (card.status === "unknown") {
      // Python's reason, if any, after the plain explanation.
      replace(this.note, UNKNOWN_TEXT, card.error?.message ? ` (${card.error.message})` : null);
      this.note.className = "kls-note";
    } else if (card.status === "failed" || card.error) {
      // A completed task can carry an error too (its video could not be downloaded).
      const e = card.error ?? { code: null, message: "The task failed without a message." };
      replace(this.note, e.code ? h("code", { "data-testid": "kls-error-code", text: e.code }) : null, e.code ? " " : null, h("span", { text: e.message }));
      this.note.className = card.status === "failed" ? "kls-bad-text" : "kls-note";
    } else {
      replace(this.note);
    }
    if (card.has_video && !this.player) {
      this.player = new VideoPlayer(card.local_id, this.deps);
      this.videoSlot.appendChild(this.player.el);
    }
  }

  tick(nowMs: number): void {
    this.times.textContent = timesText(this.card, this.receivedMs, nowMs);
  }
}

export class CardsView {
  readonly el: HTMLElement;
  private readonly list: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly views = new Map<string, CardView>();
  private ticker: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly deps: VideoDeps) {
    this.list = h("div", { class: "kls-cards" });
    this.empty = h("div", { class: "kls-note", text: "No tasks yet." });
    this.el = h("div", { class: "kls-section" }, h("h4", { text: "Tasks" }), this.empty, this.list);
  }

  /** A sentence in place of "No tasks yet." (e.g. the snapshot failed). */
  note(text: string): void {
    this.empty.textContent = text;
    this.empty.className = "kls-bad-text";
    this.empty.hidden = false;
  }

  /** The snapshot reply: it is newer than any task message that arrived before it. */
  snapshot(cards: unknown[]): void {
    for (const raw of cards) this.upsert(raw);
  }

  upsert(raw: unknown): void {
    const card = readCard(raw);
    if (!card) return;
    const now = Date.now();
    const view = this.views.get(card.local_id);
    if (view) view.update(card, now);
    else this.views.set(card.local_id, new CardView(card, now, this.deps));
    this.order();
    this.updateTicker();
  }

  /** Newest first. Only out-of-place nodes move: moving a playing <video> would pause it. */
  private order(): void {
    const sorted = [...this.views.values()].sort((a, b) => b.card.created - a.card.created || (a.card.local_id < b.card.local_id ? 1 : -1));
    sorted.forEach((v, i) => {
      const at = this.list.children[i] ?? null;
      if (at !== v.el) this.list.insertBefore(v.el, at);
    });
    if (sorted.length > 0) this.empty.hidden = true;
  }

  private updateTicker(): void {
    const anyTicking = [...this.views.values()].some((v) => isTicking(v.card.status));
    if (anyTicking && this.ticker === null) {
      this.ticker = this.deps.scope.setInterval(() => {
        const now = Date.now();
        for (const v of this.views.values()) v.tick(now);
      }, 1000);
    } else if (!anyTicking && this.ticker !== null) {
      this.deps.scope.clearInterval(this.ticker);
      this.ticker = null;
    }
  }
}
