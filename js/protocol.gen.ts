// GENERATED from src/kling_studio/studio/_protocol.py by scripts/gen_protocol.py: do not edit.
// Change the Python declaration, then run `.venv/bin/python scripts/gen_protocol.py`.
/* eslint-disable */
export type Slot = "image" | "image_tail";
export type TaskStatus = "submitting" | "pending" | "processing" | "completed" | "failed" | "unknown" | "queued" | "not_sent";
export type RecordStatus = "submitting" | "pending" | "processing" | "completed" | "failed" | "cancelled" | "unknown" | "rejected";
export type VideoState = "saved" | "remote" | "expired" | "failed" | "none";
export type ParamValue = string | number | boolean;

export interface Backend {
  mode: "simulator" | "foxapi" | "gateway";
  base_url: string;
  label: string;
}

/** The contract's limits (contract.rules_for_front_end); the front end checks with these. */
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

export interface BackendError {
  message: string;
  at: number;
}

/** An error as the front end receives it (`error` of a card or a comparison cell). */
export interface ErrorInfo {
  code: string | null;
  message: string;
}

export interface CardSettings {
  resolution: string;
  duration: number;
  generate_audio: boolean;
}

export interface TaskCard {
  local_id: string;
  task_id: string | null;
  status: TaskStatus;
  progress: number;
  prompt: string;
  created: number;
  elapsed: number;
  remaining: number | null;
  error: ErrorInfo | null;
  has_video: boolean;
  poster: string | null;
  settings: CardSettings;
}

export interface HistoryRow {
  local_id: string;
  task_id: string | null;
  user: string | null;
  status: TaskStatus;
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
  poster: string | null;
  poster_route: string | null;
  stitched_from: string[] | null;
}

/** One person's judgement of a variant (everyone's, the viewer's included). */
export interface RaterRating {
  user: string;
  rating: number | null;
  winner: boolean;
  note: string;
}

/** The measures of a variant's video (docs/measures.md); None until measured. */
export interface VariantMeasures {
  first_frame_match: number | null;
  last_frame_match: number | null;
  motion: number | null;
  flicker: number | null;
  frozen_share: number | null;
  cuts: number | null;
  sharpness: number | null;
  text_alignment: number | null;
  aesthetic: number | null;
}

export interface Variant {
  local_id: string | null;
  label: string;
  params: Record<string, ParamValue>;
  status: TaskStatus;
  progress: number;
  has_video: boolean;
  poster: string | null;
  reused: boolean;
  rating: number | null;
  winner: boolean;
  note: string;
  rating_mean: number | null;
  rating_count: number;
  raters: RaterRating[];
  error: ErrorInfo | null;
  measures: VariantMeasures | null;
}

/** Whether an axis's levels differ in rating by more than noise (compare/_summary.py). */
export interface SummaryTest {
  test: string;
  p_value: number | null;
  significant: boolean;
  enough: boolean;
  note: string;
}

export interface SummaryLevel {
  value: string;
  labels: string[];
  rating_mean: number | null;
  rating_count: number;
  measures: VariantMeasures;
  credits: number | null;
}

export interface SummaryAxis {
  axis: string;
  levels: SummaryLevel[];
  best: Record<string, string | null>;
  test: SummaryTest;
}

/** What the comparison showed per axis (`compare_summary`); only once revealed. */
export interface ComparisonSummary {
  axes: SummaryAxis[];
}

export interface Comparison {
  group_id: string;
  title: string;
  confirm_above: number;
  differing: string[];
  variants: Variant[];
  user: string;
  blind: boolean;
  revealed: boolean;
  summary: ComparisonSummary | null;
}

/** What the form's request will reserve, shown next to Generate (studio/_spending.py). */
export interface CostEstimate {
  credits: number | null;
  source: "last task" | "price table" | "unknown";
  text: string;
}

/** The spend against the budgets that hold this user, shown in the header. */
export interface Spending {
  text: string;
  over: boolean;
}

/** Every trait of the widget (`AnyModel<Traits>` in the front end). */
export interface Traits {
  backend: Backend | null;
  rules: Rules | null;
  form: Form | null;
  pictures: Pictures | null;
  history_count: number;
  history_rev: number;
  error: BackendError | null;
  comparison: Comparison | null;
  estimate: CostEstimate | null;
  spending: Spending | null;
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

/** What a comparison plan would cost (studio/_spending.py). */
export interface PlanCosts {
  credits: number;
  unknown: number;
  cost_text: string;
  over_budget: string | null;
}

export interface ComparePlan {
  credits: number;
  unknown: number;
  cost_text: string;
  over_budget: string | null;
  count: number;
  variants: PlanVariant[];
  differing: string[];
  reused: number;
  confirm_above?: number;
}

export interface Snapshot {
  cards: TaskCard[];
}

export interface LocalId {
  local_id: string;
}

export interface HistoryPage {
  rows: HistoryRow[];
  total: number;
}

export interface VideoReply {
  url: string | null;
  route: string | null;
  mime: string;
  size: number | null;
  chunks: number;
}

export interface GroupId {
  group_id: string;
}

export interface SnapshotMsg {
  poster_routes?: boolean;
}

export interface SetPictureMsg {
  slot: Slot;
  name?: string;
  url?: string;
}

export interface ClearPictureMsg {
  slot: Slot;
}

export interface GenerateMsg {
}

export interface HistoryMsg {
  offset?: number;
  limit?: number;
  status?: RecordStatus;
  text?: string;
  poster_routes?: boolean;
}

export interface VideoMsg {
  local_id: string;
  force_bytes?: boolean;
}

export interface LoadSettingsMsg {
  local_id: string;
}

export interface RemixMsg {
  local_id: string;
  changes: Record<string, unknown>;
}

export interface ComparePlanMsg {
  axes: Axes;
}

export interface CompareRunMsg {
  axes: Axes;
  confirmed: boolean;
}

export interface CompareOpenMsg {
  group_id: string;
}

export interface CompareBlindMsg {
  blind: boolean;
}

export interface RateMsg {
  local_id: string;
  rating?: number | null;
  winner?: boolean;
  note?: string;
}

export interface ContinueFromMsg {
  local_id: string;
  slot: Slot;
}

export interface StitchMsg {
  local_ids: string[];
}

export interface ReplyError {
  message: string;
  field?: string | null;
}

export interface ReplyMessage {
  kind: "reply";
  req_id: string;
  ok: boolean;
  data?: unknown;
  error?: ReplyError;
}

export interface TaskMessage {
  kind: "task";
  card: TaskCard;
}

export interface VideoChunkMessage {
  kind: "video_chunk";
  req_id: string;
  seq: number;
  total: number;
  mime: string;
}

/** The request kinds the front end may send, with their fields. */
export interface Requests {
  snapshot: SnapshotMsg;
  set_picture: SetPictureMsg;
  clear_picture: ClearPictureMsg;
  generate: GenerateMsg;
  history: HistoryMsg;
  video: VideoMsg;
  load_settings: LoadSettingsMsg;
  remix: RemixMsg;
  compare_plan: ComparePlanMsg;
  compare_run: CompareRunMsg;
  compare_open: CompareOpenMsg;
  compare_blind: CompareBlindMsg;
  rate: RateMsg;
  continue_from: ContinueFromMsg;
  stitch: StitchMsg;
}

/** The `data` of each request's `ok: true` reply. */
export interface Replies {
  snapshot: Snapshot;
  set_picture: PictureInfo;
  clear_picture: null;
  generate: LocalId;
  history: HistoryPage;
  video: VideoReply;
  load_settings: null;
  remix: LocalId;
  compare_plan: ComparePlan;
  compare_run: GroupId;
  compare_open: null;
  compare_blind: null;
  rate: null;
  continue_from: PictureInfo;
  stitch: LocalId;
}

export type RequestKind = keyof Requests;
/** A request as sent: its kind, its fields, and the req_id the Rpc adds. */
export type Request = { [K in RequestKind]: { kind: K; req_id?: string } & Requests[K] }[RequestKind];
export type Push = ReplyMessage | TaskMessage | VideoChunkMessage;

export const DEFAULT_RULES: Rules = {
  "prompt_max": 2500,
  "negative_prompt_max": 2500,
  "segment_prompt_max": 512,
  "segments_max": 6,
  "segment_min_seconds": 1,
  "voices_max": 2,
  "resolutions": [
    "720p",
    "1080p",
    "4k"
  ],
  "durations": [
    5,
    10
  ],
  "picture_formats": [
    "JPEG",
    "PNG"
  ],
  "picture_max_bytes": 10485760,
  "picture_min_side": 300,
  "aspect_min": 0.4,
  "aspect_max": 2.5
};

export const EMPTY_FORM: Form = {
  "prompt": "",
  "negative_prompt": "",
  "resolution": "720p",
  "duration": 5,
  "generate_audio": false,
  "voice_ids": [],
  "multi_prompt": []
};

export const TASK_STATUSES: readonly TaskStatus[] = ["submitting", "pending", "processing", "completed", "failed", "unknown", "queued", "not_sent"];
export const RECORD_STATUSES: readonly RecordStatus[] = ["submitting", "pending", "processing", "completed", "failed", "cancelled", "unknown", "rejected"];
export const TICKING_STATUSES: readonly TaskStatus[] = ["pending", "processing", "queued", "submitting", "unknown"];
export const VIDEO_STATES: readonly VideoState[] = ["saved", "remote", "expired", "failed", "none"];
export const REQUEST_KINDS: readonly RequestKind[] = ["snapshot", "set_picture", "clear_picture", "generate", "history", "video", "load_settings", "remix", "compare_plan", "compare_run", "compare_open", "compare_blind", "rate", "continue_from", "stitch"];
