// The gallery's items: the tasks of this session (live cards) and the history page, as one list,
// newest first. Pure: the views render whatever this returns.

import type { HistoryRow, TaskCard } from "./types";

export interface GalleryItem {
  local_id: string;
  task_id: string | null;
  status: string;
  prompt: string;
  user: string | null;
  poster: string | null;
  /** The poster's media route, when Python named it instead of sending it (history rows). */
  poster_route: string | null;
  /** 0-100; meaningful while running. */
  progress: number;
  created: number;
  has_video: boolean;
  error: { code: string | null; message: string } | null;
  settings: { resolution: string; duration: number; generate_audio: boolean };
  /** From a live card of this session (ticks, has remaining time). */
  live: boolean;
  /** A joined result's parts (local ids, in play order); null for a generated task. */
  parts: string[] | null;
}

const RUNNING = new Set(["queued", "submitting", "pending", "processing", "unknown"]);

export function isRunning(status: string): boolean {
  return RUNNING.has(status);
}

/** Finished with a video: can be played, continued from, joined. */
export function isPlayable(item: Pick<GalleryItem, "status" | "has_video">): boolean {
  return item.status === "completed" && item.has_video;
}

function text(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : null;
}

export function itemFromCard(card: TaskCard & Partial<{ poster: unknown; user: unknown }>): GalleryItem {
  return {
    local_id: card.local_id,
    task_id: card.task_id,
    status: card.status,
    prompt: card.prompt,
    user: text(card.user),
    poster: text(card.poster),
    poster_route: null,
    progress: card.status === "completed" ? 100 : card.progress,
    created: card.created,
    has_video: card.has_video,
    error: card.error,
    settings: card.settings,
    live: true,
    parts: null,
  };
}

export function itemFromRow(row: HistoryRow & Partial<{ poster: unknown; user: unknown }>): GalleryItem {
  const code = text(row.error_code);
  const message = text(row.error_message);
  return {
    local_id: String(row.local_id),
    task_id: text(row.task_id),
    status: String(row.status),
    prompt: String(row.prompt ?? ""),
    user: text(row.user),
    poster: text(row.poster),
    poster_route: text(row.poster_route),
    progress: row.status === "completed" ? 100 : 0,
    created: Number(row.created) || 0,
    has_video: row.has_video === true,
    error: code || message ? { code, message: message ?? "" } : null,
    settings: { resolution: String(row.resolution ?? ""), duration: Number(row.duration) || 0, generate_audio: row.generate_audio === true },
    live: false,
    parts: Array.isArray(row.stitched_from) ? row.stitched_from.map(String) : null,
  };
}

/**
 * The page's rows with this session's cards laid over them (a card is newer than the row it
 * matches). Cards of tasks not on the page join only when `withAllCards` (first page, no filter):
 * the gallery must not show tasks a filter leaves out.
 */
export function mergeItems(cards: readonly TaskCard[], rows: readonly HistoryRow[], withAllCards: boolean): GalleryItem[] {
  const byId = new Map<string, GalleryItem>();
  for (const r of rows) byId.set(String(r.local_id), itemFromRow(r));
  for (const c of cards) {
    const row = byId.get(c.local_id);
    if (!row && !withAllCards) continue;
    const item = itemFromCard(c);
    // History knows the poster and author once the task is saved; a card may not carry them yet.
    if (row) byId.set(c.local_id, { ...item, poster: item.poster ?? row.poster, poster_route: item.poster ? null : row.poster_route, user: item.user ?? row.user, parts: row.parts });
    else byId.set(c.local_id, item);
  }
  return [...byId.values()].sort((a, b) => b.created - a.created || (a.local_id < b.local_id ? 1 : a.local_id > b.local_id ? -1 : 0));
}
