// Task cards: what Python says about each task of this session (status, progress, times, error),
// read defensively, and the texts shown for them. The gallery and the player show them.

import { seconds } from "../format";
import { TICKING_STATUSES } from "../protocol.gen";
import type { Scope } from "../scope";
import type { TaskCard } from "../types";

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
    poster: typeof c.poster === "string" ? c.poster : null,
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

export interface LiveCard {
  card: TaskCard;
  /** When it arrived (ms), for ticking its times locally. */
  receivedMs: number;
}

/**
 * The tasks of this session, by local id: from the `snapshot` reply and `task` messages. Listeners
 * hear of every change, and once a second while any task runs (times tick locally, Python is
 * not asked).
 */
export class TaskStore {
  private readonly live = new Map<string, LiveCard>();
  private readonly listeners: Array<(changed: TaskCard | null) => void> = [];
  private ticker: ReturnType<typeof setInterval> | null = null;
  /** Why the tasks could not be loaded, if they could not. */
  problem: string | null = null;

  constructor(private readonly scope: Scope) {}

  get cards(): TaskCard[] {
    return [...this.live.values()].map((l) => l.card);
  }

  get(localId: string): LiveCard | undefined {
    return this.live.get(localId);
  }

  /** `changed` is the card that changed, or null for a tick or a problem. */
  subscribe(cb: (changed: TaskCard | null) => void): void {
    this.listeners.push(cb);
  }

  /** The snapshot reply: it is newer than any task message that arrived before it. */
  snapshot(cards: unknown[]): void {
    for (const raw of cards) this.upsert(raw);
  }

  fail(text: string): void {
    this.problem = text;
    this.emit(null);
  }

  upsert(raw: unknown): TaskCard | null {
    const card = readCard(raw);
    if (!card) return null;
    // Fields beyond the card's own (poster, user) ride along untouched.
    const extra = raw as Record<string, unknown>;
    const full = { ...card, poster: extra["poster"] ?? null, user: extra["user"] ?? null } as TaskCard;
    this.live.set(card.local_id, { card: full, receivedMs: Date.now() });
    this.updateTicker();
    this.emit(full);
    return full;
  }

  private emit(changed: TaskCard | null): void {
    for (const l of this.listeners) l(changed);
  }

  private updateTicker(): void {
    const anyTicking = [...this.live.values()].some((v) => isTicking(v.card.status));
    if (anyTicking && this.ticker === null) {
      this.ticker = this.scope.setInterval(() => this.emit(null), 1000);
    } else if (!anyTicking && this.ticker !== null) {
      this.scope.clearInterval(this.ticker);
      this.ticker = null;
    }
  }
}
