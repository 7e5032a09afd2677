// The shapes of docs/widget-protocol.md, as TypeScript. Keep this file in step with that document.

export type Slot = "image" | "image_tail";

export interface Backend {
  mode: "simulator" | "foxapi";
  base_url: string;
  label: string;
}

export interface Rules {
  prompt_max: number;
  negative_prompt_max: number;
  segment_prompt_max: number;
  segments_max: number;
  segment_min_seconds: number;
  voices_max: number;
  resolutions: string[];
  durations: number[];
  picture_formats: string[];
  picture_max_bytes: number;
  picture_min_side: number;
  aspect_min: number;
  aspect_max: number;
}

export interface Segment {
  prompt: string;
  duration: number;
}

export interface Form {
  prompt: string;
  negative_prompt: string;
  resolution: string;
  duration: number;
  generate_audio: boolean;
  voice_ids: string[];
  multi_prompt: Segment[];
}

export interface PictureInfo {
  name: string;
  source: "file" | "url";
  url: string | null;
  width: number;
  height: number;
  size: number;
  format: string;
  thumb: string | null;
  problems: string[];
}

export interface Pictures {
  image: PictureInfo | null;
  image_tail: PictureInfo | null;
}

export type TaskStatus = "submitting" | "pending" | "processing" | "completed" | "failed" | "unknown";

export interface TaskCard {
  local_id: string;
  task_id: string | null;
  status: TaskStatus;
  progress: number;
  prompt: string;
  created: number;
  elapsed: number;
  remaining: number | null;
  error: { code: string | null; message: string } | null;
  has_video: boolean;
  settings: { resolution: string; duration: number; generate_audio: boolean };
}

export interface HistoryRow {
  local_id: string;
  task_id: string | null;
  status: string;
  prompt: string;
  negative_prompt: string | null;
  resolution: string;
  duration: number;
  generate_audio: boolean;
  created: number;
  finished: number | null;
  elapsed: number | null;
  error_code: string | null;
  error_message: string | null;
  has_video: boolean;
}

export interface HistoryPage {
  rows: HistoryRow[];
  total: number;
}

export interface VideoReply {
  url: string | null;
  mime: string;
  size: number | null;
  chunks: number;
}

export interface BackendError {
  message: string;
  at: number;
}

// --- A/B comparison (issue 5) ---

export type ParamValue = string | number | boolean;

export interface Variant {
  local_id: string | null;
  label: string;
  /** Only the differing parameters, already short text or numbers. */
  params: Record<string, ParamValue>;
  status: TaskStatus;
  progress: number;
  has_video: boolean;
  reused: boolean;
  rating: number | null;
  winner: boolean;
  note: string;
  error: { code: string | null; message: string } | null;
}

export interface Comparison {
  group_id: string;
  title: string;
  confirm_above: number;
  differing: string[];
  variants: Variant[];
}

/** One list per axis of the grid; an empty list means "the form's value". */
export interface Axes {
  prompts: string[];
  negative_prompts: string[];
  resolutions: string[];
  durations: number[];
  use_tail: boolean[];
}

export interface PlanVariant {
  label: string;
  params: Record<string, ParamValue>;
}

/** The `compare_plan` reply. `confirm_above` is a front-end extension (see the protocol). */
export interface ComparePlan {
  count: number;
  variants: PlanVariant[];
  differing: string[];
  reused: number;
  confirm_above?: number;
}

/** Every trait of the widget, for `AnyModel<Traits>`. */
export interface Traits {
  backend: Backend | null;
  rules: Rules | null;
  form: Form | null;
  pictures: Pictures | null;
  history_count: number;
  history_rev: number;
  error: BackendError | null;
  comparison: Comparison | null;
}

// --- Studio media: posters, authors, continue-from, stitch (agreed with the Python side; one
// block so it can move into the generated protocol file as a whole) ---

/** A small poster of a result: only ever a `data:image/jpeg;base64,...` URL made by Python. */
export type PosterUrl = string;

/** Fields that task cards and history rows gain; absent (older Python) reads as null. */
export interface MediaFields {
  poster: PosterUrl | null;
  /** Who made it (text, never HTML). */
  user: string | null;
}

/** Request `{kind: "continue_from", local_id, slot}`; the reply is the slot's `PictureInfo`. */
export interface ContinueFromRequest {
  kind: "continue_from";
  local_id: string;
  slot: Slot;
}

/** Request `{kind: "stitch", local_ids}` (in play order); the reply is `StitchReply`. */
export interface StitchRequest {
  kind: "stitch";
  local_ids: string[];
}

export interface StitchReply {
  local_id: string;
}
