// The form: prompts with live counters, resolution / duration / audio, voice ids, and the
// multi-prompt editor. It reads and writes only through the FormStore; the rules come from the
// `rules` trait. Inputs are rewritten only for changes from outside (so typing keeps its cursor).

import { h, replace } from "../dom";
import { codePoints, grouped } from "../format";
import type { FormStore } from "../form-store";
import { segmentSeconds } from "../rules";
import type { Scope } from "../scope";
import type { Form, Rules, Segment } from "../types";

function counterText(len: number, max: number): string {
  return `${grouped(len)} / ${grouped(max)}`;
}

function setCounter(el: HTMLElement, text: string, max: number): void {
  const len = codePoints(text);
  el.textContent = counterText(len, max);
  el.classList.toggle("kls-over", len > max);
}

/** Assigns only when different: re-assigning the same value would move the caret. */
function setValue(el: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement, v: string): void {
  if (el.value !== v) el.value = v;
}

export class FormView {
  readonly el: HTMLElement;
  private readonly prompt: HTMLTextAreaElement;
  private readonly promptCount: HTMLElement;
  private readonly negative: HTMLTextAreaElement;
  private readonly negativeCount: HTMLElement;
  private readonly resolution: HTMLSelectElement;
  private readonly duration: HTMLSelectElement;
  private readonly audio: HTMLInputElement;
  private readonly voicesBox: HTMLElement;
  private voices: HTMLInputElement[] = [];
  private readonly segmentsBox: HTMLElement;
  private readonly segmentsSum: HTMLElement;
  private readonly addSegment: HTMLButtonElement;
  // The counters of the segment rows currently shown, by index.
  private segmentCounters: HTMLElement[] = [];

  constructor(
    private readonly store: FormStore,
    private readonly scope: Scope,
    private readonly rules: () => Rules,
  ) {
    this.prompt = h("textarea", { rows: 4, "data-testid": "kls-prompt", placeholder: "Describe the video: subject, motion, camera…", "aria-label": "Prompt" });
    this.promptCount = h("span", { class: "kls-counter", "data-testid": "kls-prompt-count" });
    this.negative = h("textarea", { rows: 2, "data-testid": "kls-negative-prompt", placeholder: "Things to avoid, comma-separated", "aria-label": "Negative prompt" });
    this.negativeCount = h("span", { class: "kls-counter", "data-testid": "kls-negative-prompt-count" });
    this.resolution = h("select", { "data-testid": "kls-resolution", "aria-label": "Resolution" });
    this.duration = h("select", { "data-testid": "kls-duration", "aria-label": "Duration" });
    this.audio = h("input", { type: "checkbox", "data-testid": "kls-audio" });
    this.voicesBox = h("div", { class: "kls-row" });
    this.segmentsBox = h("div", { class: "kls-segments" });
    this.segmentsSum = h("span", { class: "kls-counter", "data-testid": "kls-segments-sum" });
    this.addSegment = h("button", { type: "button", "data-testid": "kls-segment-add", text: "Add segment" });

    this.el = h(
      "div",
      { class: "kls-form" },
      field("Prompt", this.promptCount, this.prompt),
      field("Negative prompt", this.negativeCount, this.negative),
      h(
        "div",
        { class: "kls-settings" },
        h("label", {}, "Resolution", this.resolution),
        h("label", {}, "Duration", this.duration),
        h("label", {}, this.audio, "Audio (sound effects / music)"),
      ),
      h("div", { class: "kls-field" }, h("div", { class: "kls-field-head" }, h("span", { text: "Voice ids (need audio; refer to them as <<<voice_1>>> in the prompt)" })), this.voicesBox),
      h(
        "div",
        { class: "kls-field" },
        h("div", { class: "kls-field-head" }, h("span", { text: "Multi-prompt segments (optional; each with its own prompt and seconds)" }), this.segmentsSum),
        this.segmentsBox,
        h("div", {}, this.addSegment),
      ),
    );

    scope.listen(this.prompt, "input", () => store.update({ prompt: this.prompt.value }, true));
    scope.listen(this.negative, "input", () => store.update({ negative_prompt: this.negative.value }, true));
    scope.listen(this.resolution, "change", () => store.update({ resolution: this.resolution.value }));
    scope.listen(this.duration, "change", () => store.update({ duration: Number(this.duration.value) }));
    scope.listen(this.audio, "change", () => store.update({ generate_audio: this.audio.checked, voice_ids: this.voiceIds(this.audio.checked) }));
    scope.listen(this.addSegment, "click", () => this.onAddSegment());
    // One delegated listener for all segment rows (they are rebuilt on add/remove).
    scope.listen(this.segmentsBox, "input", (e) => this.onSegmentInput(e));
    scope.listen(this.segmentsBox, "click", (e) => this.onSegmentClick(e));

    store.subscribe((form, external) => this.show(form, external));
    this.applyRules();
  }

  /** Rebuild whatever depends on the rules (options, counters, voice inputs), then the values. */
  applyRules(): void {
    const r = this.rules();
    const form = this.store.form;
    this.voices = Array.from({ length: Math.max(r.voices_max, 0) }, (_, i) => {
      const input = h("input", { type: "text", placeholder: `voice id ${i + 1}`, "data-testid": `kls-voice-${i + 1}`, "aria-label": `Voice id ${i + 1}` });
      this.scope.listen(input, "input", () => this.store.update({ voice_ids: this.voiceIds(this.audio.checked) }, true));
      return input;
    });
    replace(this.voicesBox, ...this.voices);
    this.show(form, true);
  }

  private voiceIds(audio: boolean): string[] {
    return audio ? this.voices.map((v) => v.value.trim()).filter((v) => v !== "") : [];
  }

  private show(form: Form, external: boolean): void {
    const r = this.rules();
    if (external) {
      setValue(this.prompt, form.prompt);
      setValue(this.negative, form.negative_prompt);
      // A value from Python outside the rules still shows (the reason beside Generate explains it).
      replace(this.resolution, ...withCurrent(r.resolutions, form.resolution).map((v) => h("option", { value: v, text: v })));
      replace(this.duration, ...withCurrent(r.durations.map(String), String(form.duration)).map((v) => h("option", { value: v, text: `${v} s` })));
      setValue(this.resolution, form.resolution);
      setValue(this.duration, String(form.duration));
      this.audio.checked = form.generate_audio;
      // Extra ids beyond the inputs (only Python can set them) are reported beside Generate.
      this.voices.forEach((v, i) => setValue(v, form.voice_ids[i] ?? ""));
      this.buildSegments(form.multi_prompt);
    }
    for (const v of this.voices) v.disabled = !form.generate_audio;
    setCounter(this.promptCount, form.prompt, r.prompt_max);
    setCounter(this.negativeCount, form.negative_prompt, r.negative_prompt_max);
    form.multi_prompt.forEach((s, i) => {
      const c = this.segmentCounters[i];
      if (c) setCounter(c, s.prompt, r.segment_prompt_max);
    });
    const sum = segmentSeconds(form);
    this.segmentsSum.textContent = form.multi_prompt.length ? `${sum} of ${form.duration} s` : "off";
    this.segmentsSum.classList.toggle("kls-over", form.multi_prompt.length > 0 && sum !== form.duration);
    this.addSegment.disabled = form.multi_prompt.length >= r.segments_max;
  }

  private buildSegments(segs: Segment[]): void {
    const r = this.rules();
    this.segmentCounters = [];
    const rows = segs.map((s, i) => {
      const counter = h("span", { class: "kls-counter" });
      setCounter(counter, s.prompt, r.segment_prompt_max);
      this.segmentCounters.push(counter);
      const prompt = h("textarea", { rows: 2, "data-testid": "kls-segment-prompt", "data-index": i, "aria-label": `Segment ${i + 1} prompt` });
      prompt.value = s.prompt;
      const secs = h("input", { type: "number", min: r.segment_min_seconds, step: 1, "data-testid": "kls-segment-seconds", "data-index": i, "aria-label": `Segment ${i + 1} seconds` });
      secs.value = String(s.duration);
      return h(
        "div",
        { class: "kls-segment", "data-testid": "kls-segment" },
        h("span", { text: `${i + 1}.` }),
        h("div", { class: "kls-field" }, prompt, counter),
        h("label", {}, secs, " s"),
        h("button", { type: "button", "data-testid": "kls-segment-remove", "data-index": i, text: "Remove", "aria-label": `Remove segment ${i + 1}` }),
      );
    });
    replace(this.segmentsBox, ...rows);
  }

  private onAddSegment(): void {
    const form = this.store.form;
    const left = form.duration - segmentSeconds(form);
    const segs = [...form.multi_prompt, { prompt: "", duration: Math.max(this.rules().segment_min_seconds, left) }];
    this.buildSegments(segs);
    this.store.update({ multi_prompt: segs });
  }

  private onSegmentClick(e: Event): void {
    const t = e.target as HTMLElement;
    if (t.dataset["testid"] !== "kls-segment-remove") return;
    const i = Number(t.dataset["index"]);
    const segs = this.store.form.multi_prompt.filter((_, j) => j !== i);
    this.buildSegments(segs);
    this.store.update({ multi_prompt: segs });
  }

  private onSegmentInput(e: Event): void {
    const t = e.target as HTMLInputElement | HTMLTextAreaElement;
    const i = Number(t.dataset["index"]);
    const segs = this.store.form.multi_prompt.map((s) => ({ ...s }));
    const seg = segs[i];
    if (!seg) return;
    if (t.dataset["testid"] === "kls-segment-prompt") seg.prompt = t.value;
    else if (t.dataset["testid"] === "kls-segment-seconds") seg.duration = t.value === "" ? 0 : Number(t.value);
    else return;
    this.store.update({ multi_prompt: segs }, true);
  }
}

function field(label: string, counter: HTMLElement, input: HTMLElement): HTMLElement {
  return h("label", { class: "kls-field" }, h("div", { class: "kls-field-head" }, h("span", { text: label }), counter), input);
}

/** The allowed values, plus the current one if it is not among them (so a select never lies). */
function withCurrent(values: string[], current: string): string[] {
  return values.includes(current) || current === "" ? values : [...values, current];
}
