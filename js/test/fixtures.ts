// Bytes and records for tests: minimal but well-formed PNG / JPEG headers, cards, history rows.

import { DEFAULT_RULES } from "../rules";
import type { Comparison, Form, HistoryRow, PictureInfo, Rules, TaskCard, Variant } from "../types";

export const RULES: Rules = { ...DEFAULT_RULES };

/** PNG signature + IHDR chunk with the given size (+ optional padding to reach a byte size). */
export function pngBytes(width: number, height: number, totalSize = 33): Uint8Array {
  const b = new Uint8Array(Math.max(totalSize, 33));
  b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 0);
  const v = new DataView(b.buffer);
  v.setUint32(8, 13);
  b.set([0x49, 0x48, 0x44, 0x52], 12); // "IHDR"
  v.setUint32(16, width);
  v.setUint32(20, height);
  b.set([8, 6, 0, 0, 0], 24);
  return b;
}

/** SOI, an APP0 (JFIF) segment, then SOF0 with the size, then EOI. */
export function jpegBytes(width: number, height: number): Uint8Array {
  const app0 = [0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00];
  const sof = [0xff, 0xc0, 0x00, 0x11, 0x08, height >> 8, height & 255, width >> 8, width & 255, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1];
  return new Uint8Array([0xff, 0xd8, ...app0, ...sof, 0xff, 0xd9]);
}

export const GIF_BYTES = new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x40, 0x01, 0x40, 0x01, 0, 0, 0]);
export const TEXT_BYTES = new TextEncoder().encode("hello, this is not a picture\n");

export function form(over: Partial<Form> = {}): Form {
  return { prompt: "A cat walks on the beach", negative_prompt: "", resolution: "720p", duration: 5, generate_audio: false, voice_ids: [], multi_prompt: [], ...over };
}

export function picture(over: Partial<PictureInfo> = {}): PictureInfo {
  return { name: "cat.png", source: "file", url: null, width: 1280, height: 720, size: 200_000, format: "PNG", thumb: null, problems: [], ...over };
}

export function card(over: Partial<TaskCard> = {}): TaskCard {
  return {
    local_id: "t1",
    task_id: "task-unified-1-abc",
    status: "processing",
    progress: 10,
    prompt: "A cat",
    created: 1_757_165_031,
    elapsed: 5,
    remaining: 40,
    error: null,
    has_video: false,
    poster: null,
    settings: { resolution: "720p", duration: 5, generate_audio: false },
    ...over,
  };
}

export function historyRow(i: number, over: Partial<HistoryRow> = {}): HistoryRow {
  return {
    local_id: `L${i}`,
    task_id: `task-${i}`,
    user: i % 3 === 0 ? "ada" : "bob",
    status: i % 7 === 0 ? "failed" : "completed",
    prompt: `Prompt number ${i}`,
    negative_prompt: null,
    resolution: "720p",
    duration: 5,
    generate_audio: i % 2 === 0,
    created: 1_757_165_031 - i * 60,
    finished: 1_757_165_031 - i * 60 + 45,
    elapsed: 45,
    error_code: i % 7 === 0 ? "content_policy" : null,
    error_message: i % 7 === 0 ? "The prompt was refused." : null,
    has_video: i % 7 !== 0,
    poster: null,
    poster_route: null,
    stitched_from: null,
    ...over,
  };
}

/** A comparison variant as Python sends it (completed, no video, nobody has judged it). */
export function variant(over: Partial<Variant> = {}): Variant {
  return {
    local_id: "v1",
    label: "A",
    params: { prompt: "A cat" },
    status: "completed",
    progress: 100,
    has_video: false,
    poster: null,
    reused: false,
    rating: null,
    winner: false,
    note: "",
    rating_mean: null,
    rating_count: 0,
    raters: [],
    error: null,
    measures: null,
    ...over,
  };
}

/** A two-variant comparison (A: "A cat", B: "A dog"), seen by ada, not blind. */
export function comparison(over: Partial<Comparison> = {}): Comparison {
  return {
    group_id: "g1",
    title: "Cat prompts",
    confirm_above: 4,
    differing: ["prompt"],
    variants: [variant(), variant({ local_id: "v2", label: "B", params: { prompt: "A dog" } })],
    user: "ada",
    blind: false,
    revealed: true,
    summary: null,
    ...over,
  };
}
