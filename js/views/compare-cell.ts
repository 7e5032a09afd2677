// One variant's cell in the comparison view: label, status, progress, error, parameters (none
// while judging blind), the video (driven by the board's shared control bar) and the judging
// controls (compare-judge.ts).

import type { Scope } from "../scope";
import { h, replace } from "../dom";
import type { Rpc } from "../rpc";
import type { TaskStatus, Variant } from "../types";
import { VideoPlayer, type VideoDeps } from "../video";
import { paramsEl, RUNNING, visibleParams } from "./compare-model";
import { Judge } from "./compare-judge";
import { measuresLine } from "./compare-summary";

/** What a cell needs from the board that holds it. */
export interface CellHost {
  readonly groupScope: Scope;
  readonly videoDeps: VideoDeps;
  readonly rpc: Rpc;
  addVideo(video: HTMLVideoElement, order: number): void;
}

// --- one variant's cell ---

export class Cell {
  readonly el: HTMLElement;
  private readonly labelEl = h("strong", { class: "kls-compare-label", "data-testid": "kls-compare-label" });
  private readonly statusEl = h("span", { class: "kls-status", "data-testid": "kls-compare-status" });
  private readonly reusedEl = h("span", { class: "kls-badge", "data-testid": "kls-compare-reused", text: "reused", hidden: true });
  private readonly bar = h("div");
  private readonly progressEl = h("div", { class: "kls-progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-label": "Progress", "data-testid": "kls-compare-progress" }, this.bar);
  private readonly paramsBox = h("div");
  private readonly errorEl = h("div", { class: "kls-bad-text", "data-testid": "kls-compare-error", hidden: true });
  private readonly videoSlot = h("div", { class: "kls-compare-video-slot" });
  private readonly measuresEl = h("div", { class: "kls-note kls-compare-measures", "data-testid": "kls-compare-measures", hidden: true });
  private readonly judge: Judge;
  private player: VideoPlayer | null = null;
  variant: Variant;

  constructor(
    variant: Variant,
    differing: string[],
    private readonly order: number,
    private readonly board: CellHost,
  ) {
    this.variant = variant;
    const scope = board.groupScope;
    this.judge = new Judge(scope, board.rpc);
    this.el = h(
      "div",
      { class: "kls-compare-cell", "data-testid": "kls-compare-cell" },
      h("div", { class: "kls-card-head" }, h("span", {}, this.labelEl, " ", this.reusedEl), this.statusEl),
      this.paramsBox,
      this.progressEl,
      this.errorEl,
      this.videoSlot,
      this.measuresEl,
      this.judge.el,
    );
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
    this.judge.update(v);
    this.measuresEl.textContent = measuresLine(v.measures);
    this.measuresEl.hidden = this.measuresEl.textContent === "";
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
}
