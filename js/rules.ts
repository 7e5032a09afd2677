// Every input rule of the contract (docs/contract.md sections 1 and 6), as pure functions fed by the
// `rules` trait. The numbers come from Python (one source of truth); the sentences are what the
// user reads beside the Generate button and in the picture slots. Python checks again on generate.

import { bytes, codePoints, grouped, ratio } from "./format";
import { DEFAULT_RULES, EMPTY_FORM } from "./protocol.gen";
import type { Form, PictureInfo, Rules, Slot } from "./types";

/** Used until the `rules` trait arrives, and the empty form: generated from Python's
 * (kling_studio/contract.py and studio/_protocol.py), so the two sides cannot drift apart. */
export { DEFAULT_RULES, EMPTY_FORM } from "./protocol.gen";

/** A trait value with every field present: missing or mistyped fields fall back to the defaults. */
export function readRules(raw: unknown): Rules {
  const r = isObject(raw) ? raw : {};
  const num = (k: keyof Rules): number => (typeof r[k] === "number" ? (r[k] as number) : (DEFAULT_RULES[k] as number));
  const list = <T>(k: keyof Rules, t: string): T[] =>
    Array.isArray(r[k]) && (r[k] as unknown[]).every((x) => typeof x === t) ? (r[k] as T[]) : (DEFAULT_RULES[k] as T[]);
  return {
    prompt_max: num("prompt_max"),
    negative_prompt_max: num("negative_prompt_max"),
    segment_prompt_max: num("segment_prompt_max"),
    segments_max: num("segments_max"),
    segment_min_seconds: num("segment_min_seconds"),
    voices_max: num("voices_max"),
    resolutions: list<string>("resolutions", "string"),
    durations: list<number>("durations", "number"),
    picture_formats: list<string>("picture_formats", "string"),
    picture_max_bytes: num("picture_max_bytes"),
    picture_min_side: num("picture_min_side"),
    aspect_min: num("aspect_min"),
    aspect_max: num("aspect_max"),
  };
}

/** The form trait with every field present and of the right type. */
export function readForm(raw: unknown, rules: Rules): Form {
  const f = isObject(raw) ? raw : {};
  const str = (v: unknown, d: string): string => (typeof v === "string" ? v : d);
  const segs = Array.isArray(f["multi_prompt"]) ? (f["multi_prompt"] as unknown[]) : [];
  return {
    prompt: str(f["prompt"], ""),
    negative_prompt: str(f["negative_prompt"], ""),
    resolution: str(f["resolution"], rules.resolutions[0] ?? EMPTY_FORM.resolution),
    duration: typeof f["duration"] === "number" ? f["duration"] : (rules.durations[0] ?? EMPTY_FORM.duration),
    generate_audio: f["generate_audio"] === true,
    voice_ids: Array.isArray(f["voice_ids"]) ? f["voice_ids"].filter((v): v is string => typeof v === "string") : [],
    multi_prompt: segs.filter(isObject).map((s) => ({
      prompt: str(s["prompt"], ""),
      duration: typeof s["duration"] === "number" ? s["duration"] : 0,
    })),
  };
}

export interface Problem {
  field: string;
  message: string;
}

/** Every rule the form's fields break, as sentences. Empty means the fields are fine. */
export function formProblems(form: Form, rules: Rules): Problem[] {
  const out: Problem[] = [];
  const add = (field: string, message: string): void => {
    out.push({ field, message });
  };

  const promptLen = codePoints(form.prompt);
  if (!form.prompt.trim()) add("prompt", "Write a prompt: describe the video you want.");
  else if (promptLen > rules.prompt_max) {
    add("prompt", `Prompt is ${grouped(promptLen)} characters; the limit is ${grouped(rules.prompt_max)}.`);
  }
  const negLen = codePoints(form.negative_prompt);
  if (negLen > rules.negative_prompt_max) {
    add(
      "negative_prompt",
      `Negative prompt is ${grouped(negLen)} characters; the limit is ${grouped(rules.negative_prompt_max)}.`,
    );
  }
  if (!rules.resolutions.includes(form.resolution)) {
    add("resolution", `Resolution must be one of ${rules.resolutions.join(", ")}; it is "${form.resolution}".`);
  }
  if (!rules.durations.includes(form.duration)) {
    add("duration", `Duration must be ${rules.durations.join(" or ")} seconds; it is ${form.duration}.`);
  }
  out.push(...voiceProblems(form, rules), ...segmentProblems(form, rules));
  return out;
}

function voiceProblems(form: Form, rules: Rules): Problem[] {
  const out: Problem[] = [];
  const ids = form.voice_ids;
  if (ids.length > rules.voices_max) {
    out.push({ field: "voice_ids", message: `At most ${rules.voices_max} voice ids; there are ${ids.length}.` });
  }
  if (ids.some((v) => !v.trim())) {
    out.push({ field: "voice_ids", message: "Each voice id must be non-empty." });
  }
  if (ids.length > 0 && !form.generate_audio) {
    out.push({ field: "voice_ids", message: "Voice ids need audio: turn audio on or remove them." });
  }
  return out;
}

/** An empty list means "no multi-prompt"; with any segment, all the segment rules apply. */
function segmentProblems(form: Form, rules: Rules): Problem[] {
  const segs = form.multi_prompt;
  if (segs.length === 0) return [];
  const out: Problem[] = [];
  const add = (field: string, message: string): void => {
    out.push({ field, message });
  };
  if (segs.length > rules.segments_max) {
    add("multi_prompt", `Multi-prompt takes 1 to ${rules.segments_max} segments; there are ${segs.length}.`);
  }
  segs.forEach((seg, i) => {
    const where = `multi_prompt[${i + 1}]`;
    const n = i + 1;
    const len = codePoints(seg.prompt);
    if (!seg.prompt.trim()) add(where, `Segment ${n} needs a prompt.`);
    else if (len > rules.segment_prompt_max) {
      add(where, `Segment ${n}'s prompt is ${grouped(len)} characters; the limit is ${grouped(rules.segment_prompt_max)}.`);
    }
    if (!Number.isInteger(seg.duration) || seg.duration < rules.segment_min_seconds) {
      add(where, `Segment ${n} must last whole seconds, at least ${rules.segment_min_seconds} s.`);
    }
  });
  const sum = segmentSeconds(form);
  if (sum !== form.duration) {
    add("multi_prompt", `Segments add up to ${sum} s; the duration is ${form.duration} s. They must be equal.`);
  }
  return out;
}

export function segmentSeconds(form: Form): number {
  return form.multi_prompt.reduce((acc, s) => acc + (Number.isFinite(s.duration) ? s.duration : 0), 0);
}

// --- pictures ---------------------------------------------------------------------------------

export interface PictureFacts {
  format: string;
  width: number | null;
  height: number | null;
  size: number;
}

export interface Check {
  id: "format" | "side" | "bytes" | "aspect";
  ok: boolean;
  text: string;
}

function normalFormat(f: string): string {
  const u = f.toUpperCase();
  return u === "JPG" ? "JPEG" : u;
}

const ASPECT_EPSILON = 1e-9; // 750x300 is exactly 2.5; float noise must not fail it

/** The contract's four picture checks, each a sentence that passes or fails. */
export function pictureChecks(p: PictureFacts, rules: Rules): Check[] {
  const allowed = rules.picture_formats.map(normalFormat);
  const fmt = normalFormat(p.format);
  const names = allowed.map((f) => (f === "JPEG" ? "JPG" : f)).join(" or ");
  const checks: Check[] = [];
  checks.push(
    allowed.includes(fmt)
      ? { id: "format", ok: true, text: `${fmt === "JPEG" ? "JPG" : fmt} picture: an accepted format.` }
      : { id: "format", ok: false, text: `Not a ${names} picture (the bytes say ${fmt === "UNKNOWN" ? "unknown format" : fmt}).` },
  );
  const maxText = bytes(rules.picture_max_bytes);
  checks.push(
    p.size <= rules.picture_max_bytes
      ? { id: "bytes", ok: true, text: `${bytes(p.size)}, within the ${maxText} limit.` }
      : { id: "bytes", ok: false, text: `The file is ${bytes(p.size)}; the limit is ${maxText}.` },
  );
  const min = rules.picture_min_side;
  if (p.width === null || p.height === null || p.width <= 0 || p.height <= 0) {
    checks.push({ id: "side", ok: false, text: "The pixel size could not be read from the file." });
    return checks;
  }
  const short = Math.min(p.width, p.height);
  checks.push(
    short >= min
      ? { id: "side", ok: true, text: `${p.width} × ${p.height} px: each side is at least ${min} px.` }
      : { id: "side", ok: false, text: `${p.width} × ${p.height} px: the shorter side is ${short} px; each side must be at least ${min} px.` },
  );
  const r = p.width / p.height;
  const range = `${ratio(rules.aspect_min, 1)} to ${ratio(rules.aspect_max, 1)}`;
  const inRange = r >= rules.aspect_min - ASPECT_EPSILON && r <= rules.aspect_max + ASPECT_EPSILON;
  checks.push(
    inRange
      ? { id: "aspect", ok: true, text: `Aspect ratio ${ratio(p.width, p.height)} is within ${range}.` }
      : { id: "aspect", ok: false, text: `Aspect ratio ${ratio(p.width, p.height)} is outside ${range}.` },
  );
  return checks;
}

/** The state of one picture slot, as far as Generate cares. */
export type SlotState =
  | { kind: "empty" }
  | { kind: "busy" } // bytes or URL sent, Python's answer pending
  | { kind: "local-rejected" } // a file failed the checks here and was not sent
  | { kind: "stored"; info: PictureInfo };

const SLOT_NAME: Record<Slot, string> = { image: "first-frame", image_tail: "last-frame" };

export function pictureProblems(slots: Record<Slot, SlotState>): Problem[] {
  const out: Problem[] = [];
  for (const slot of ["image", "image_tail"] as const) {
    const s = slots[slot];
    const name = SLOT_NAME[slot];
    if (s.kind === "empty" && slot === "image") out.push({ field: slot, message: "Add a first-frame picture." });
    else if (s.kind === "busy") out.push({ field: slot, message: `The ${name} picture is still being checked.` });
    else if (s.kind === "local-rejected" || (s.kind === "stored" && s.info.problems.length > 0)) {
      out.push({ field: slot, message: `The ${name} picture fails its checks; see the picture.` });
    }
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
