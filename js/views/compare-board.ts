// The comparison on screen: its title, the blind-judging switch, one control bar that plays every
// video on one timeline (compare-sync.ts), and a cell per variant (compare-cell.ts). Another
// group_id (or other cells) gets a fresh child scope, so the old one's players, listeners, frame
// loop and object URLs go away with it.

import { CompareSync, type SyncState } from "../compare-sync";
import { h, replace } from "../dom";
import { errorText, type Rpc } from "../rpc";
import { Scope } from "../scope";
import type { Comparison } from "../types";
import type { VideoDeps } from "../video";
import { readCard } from "./cards";
import { Cell, type CellHost } from "./compare-cell";
import { defaultClock, timeText, type CompareDeps } from "./compare-model";
import { SummaryPanel } from "./compare-summary";

// --- the comparison on screen: cells and the control bar ---

export class Board implements CellHost {
  readonly el: HTMLElement;
  private readonly title = h("h4", { "data-testid": "kls-compare-title" });
  private readonly grid = h("div", { class: "kls-compare-grid", "data-testid": "kls-compare-grid" });
  private readonly play: HTMLButtonElement;
  private readonly seek: HTMLInputElement;
  private readonly loop: HTMLInputElement;
  private readonly time = h("span", { class: "kls-times", "data-testid": "kls-compare-time" });
  private readonly blind: HTMLInputElement;
  private readonly blindNote = h("div", { class: "kls-note", "data-testid": "kls-compare-blind-note", hidden: true });
  private readonly blindMsg = h("div", { class: "kls-bad-text", "data-testid": "kls-compare-blind-error" });
  private readonly cells = new Map<string, Cell>();
  private readonly summary: SummaryPanel;
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
    this.blind = h("input", { type: "checkbox", "data-testid": "kls-compare-blind" });
    this.summary = new SummaryPanel((el, type, fn) => scope.listen(el, type, fn));
    this.el = h(
      "div",
      { class: "kls-compare-board", hidden: true },
      this.title,
      h("label", { class: "kls-compare-blind" }, this.blind, "Judge blind (shuffled, settings hidden until you have rated every variant)"),
      this.blindNote,
      this.blindMsg,
      h("div", { class: "kls-row kls-compare-controls", "data-testid": "kls-compare-controls" }, this.play, this.seek, this.time, h("label", {}, this.loop, "Loop")),
      this.grid,
      this.summary.el,
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
    scope.listen(this.blind, "change", () => {
      // Python reorders and hides: the front end never receives what it must not show.
      this.blindMsg.textContent = "";
      const want = this.blind.checked;
      this.deps.rpc.request({ kind: "compare_blind", blind: want }).catch((e: unknown) => {
        this.blind.checked = !want;
        this.blindMsg.textContent = `Not switched: ${errorText(e)}`;
      });
    });
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
    // Going blind or being revealed reorders and relabels: the layout is another one then.
    const labels = JSON.stringify([c.blind && !c.revealed, c.variants.map((v) => v.label)]);
    const fresh = c.group_id !== this.groupId || labels !== this.labels;
    if (fresh) this.build(c, labels);
    else c.variants.forEach((v) => this.cells.get(v.label)?.update(v, c.differing));
    this.title.textContent = c.title || `Comparison ${c.group_id}`;
    this.blind.checked = c.blind;
    this.blindNote.textContent = blindText(c);
    this.blindNote.hidden = !c.blind;
    this.summary.show(c.variants, c.summary);
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


/** What the blind switch means right now, for the note under it. */
export function blindText(c: Pick<Comparison, "blind" | "revealed" | "variants">): string {
  if (!c.blind) return "";
  if (c.revealed) return "Revealed: you have rated every variant; the labels and settings are the real ones.";
  const left = c.variants.filter((v) => v.rating === null).length;
  return `Blind: shown in your own order as ${c.variants.map((v) => v.label).join(", ")}; ${left} left to rate before the settings are revealed.`;
}
