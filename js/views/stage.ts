// The stage: the current or selected result, large. A finished video plays here; a running task
// shows its poster or placeholder with progress; a failed one says why. Below it: what it is
// (prompt, status, settings, author, time) and what to do with it — continue from its last frame,
// use that frame as the last frame, load its settings, remix.

import { h, replace } from "../dom";
import { isPlayable, isRunning, type GalleryItem } from "../gallery-items";
import { localTime } from "../format";
import { errorText, type Message, type Rpc } from "../rpc";
import type { Slot } from "../types";
import { VideoPlayer, type VideoDeps } from "../video";
import { settingsText, timesText, type TaskStore, UNKNOWN_TEXT } from "./cards";
import { posterEl, shortPrompt } from "./tile";

const ACTION_TEXT: Record<string, string> = {
  continue_from: "Its last frame is now the first frame: write what happens next and Generate.",
  use_tail: "Its last frame is now the last frame of the next video.",
  load_settings: "Settings loaded into the form.",
  remix: "Remix started as a new task.",
};

export class StageView {
  readonly el: HTMLElement;
  private readonly screen = h("div", { class: "kls-screen", "data-testid": "kls-screen" });
  private readonly title = h("div", { class: "kls-prompt kls-stage-prompt", "data-testid": "kls-stage-prompt" });
  private readonly facts = h("div", { class: "kls-note", "data-testid": "kls-stage-facts" });
  private readonly problem = h("div", { "data-testid": "kls-stage-problem" });
  /** A joined result's parts, in play order: each opens in the player. */
  private readonly parts = h("div", { class: "kls-note kls-stage-parts", "data-testid": "kls-stage-parts" });
  private readonly actions: HTMLElement;
  private readonly answer = h("span", { class: "kls-note", role: "status", "data-testid": "kls-stage-answer" });
  private readonly continueButton: HTMLButtonElement;
  private readonly tailButton: HTMLButtonElement;
  private readonly bar = h("div");
  private readonly progress = h("div", { class: "kls-progress kls-stage-progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "data-testid": "kls-stage-progress" }, this.bar);
  private readonly times = h("div", { class: "kls-times", "data-testid": "kls-stage-times" });
  private player: VideoPlayer | null = null;
  private item: GalleryItem | null = null;
  /** A task this stage started (remix): the studio shows it next. */
  onStarted: (localId: string) => void = () => {};
  /** Opens another result in the player (a part of a joined one). */
  onOpen: (localId: string) => void = () => {};
  /** The gallery's item of a local id, if it holds one (names a part by its prompt). */
  find: (localId: string) => GalleryItem | null = () => null;
  /** What the screen shows now, so an update that changes nothing leaves a playing video alone. */
  private screenKey = "";

  constructor(
    private readonly rpc: Rpc,
    private readonly video: VideoDeps,
    private readonly tasks: TaskStore,
  ) {
    const { scope } = video;
    this.continueButton = h("button", { type: "button", "data-testid": "kls-continue", text: "Continue from last frame", title: "Its last frame becomes the first frame of the next video" });
    this.tailButton = h("button", { type: "button", "data-testid": "kls-use-tail", text: "Use as last frame", title: "Its last frame becomes the last frame of the next video" });
    const load = h("button", { type: "button", "data-testid": "kls-load-settings", text: "Load settings" });
    const remix = h("button", { type: "button", "data-testid": "kls-remix", text: "Remix" });
    this.actions = h("div", { class: "kls-row kls-stage-actions" }, this.continueButton, this.tailButton, load, remix, this.answer);
    this.el = h(
      "section",
      { class: "kls-stage", "data-testid": "kls-stage", "aria-label": "Player" },
      this.screen,
      h("div", { class: "kls-stage-info" }, this.title, this.facts, this.parts, this.progress, this.times, this.problem, this.actions),
    );
    const id = () => this.item?.local_id;
    scope.listen(this.continueButton, "click", () => void this.continueFrom("image", "continue_from"));
    scope.listen(this.tailButton, "click", () => void this.continueFrom("image_tail", "use_tail"));
    scope.listen(this.parts, "click", (e) => {
      const part = (e.target as Element | null)?.closest?.("button[data-local-id]")?.getAttribute("data-local-id");
      if (part) this.onOpen(part);
    });
    scope.listen(load, "click", () => {
      const localId = id();
      if (localId) void this.act({ kind: "load_settings", local_id: localId }, "load_settings");
    });
    scope.listen(remix, "click", () => {
      const localId = id();
      if (localId) void this.act({ kind: "remix", local_id: localId, changes: {} }, "remix");
    });
    this.show(null);
  }

  get shownId(): string | null {
    return this.item?.local_id ?? null;
  }

  /** Shows `item` (null: the empty stage). The same item again updates in place. */
  show(item: GalleryItem | null): void {
    const same = item !== null && item.local_id === this.item?.local_id;
    if (!same) {
      this.answer.textContent = "";
      this.answer.className = "kls-note";
    }
    this.item = item;
    this.el.dataset["status"] = item?.status ?? "";
    this.el.dataset["localId"] = item?.local_id ?? "";
    this.showScreen(item);
    if (!item) {
      this.title.textContent = "";
      this.facts.textContent = "";
      replace(this.problem);
      replace(this.parts);
      this.progress.hidden = true;
      this.times.hidden = true;
      this.actions.hidden = true;
      return;
    }
    this.title.textContent = item.prompt;
    const s = item.settings;
    const parts = [item.status, settingsText(s.resolution, s.duration, s.generate_audio), item.user ? `by ${item.user}` : "", item.created ? localTime(item.created) : "", item.task_id ?? ""];
    this.facts.textContent = parts.filter((p) => p !== "").join(" · ");
    this.showParts(item.parts);
    const running = isRunning(item.status);
    this.progress.hidden = !running;
    const pct = Math.round(item.status === "completed" ? 100 : item.progress);
    this.progress.setAttribute("aria-valuenow", String(pct));
    this.progress.setAttribute("aria-label", `Progress of ${shortPrompt(item.prompt)}`);
    this.bar.style.width = `${pct}%`;
    this.times.hidden = !item.live;
    this.tick(Date.now());
    this.showProblem(item);
    this.actions.hidden = false;
    const playable = isPlayable(item);
    this.continueButton.hidden = !playable;
    this.tailButton.hidden = !playable;
  }

  tick(nowMs: number): void {
    const live = this.item?.live ? this.tasks.get(this.item.local_id) : undefined;
    this.times.textContent = live ? timesText(live.card, live.receivedMs, nowMs) : "";
  }

  private showScreen(item: GalleryItem | null): void {
    const key = item === null ? "empty" : isPlayable(item) ? `video:${item.local_id}` : `still:${item.local_id}:${item.status}:${item.poster ?? ""}:${item.poster_route ?? ""}`;
    if (key === this.screenKey) return;
    this.screenKey = key;
    this.player?.stop();
    this.player = null;
    if (item === null) {
      replace(this.screen, h("div", { class: "kls-screen-empty", "data-testid": "kls-stage-empty" }, h("strong", { text: "Your video plays here." }), h("span", { text: "Pick a first frame, describe the motion, press Generate (Ctrl/⌘+Enter)." })));
    } else if (isPlayable(item)) {
      this.player = new VideoPlayer(item.local_id, this.video);
      replace(this.screen, this.player.el);
    } else {
      const label = isRunning(item.status) ? "Generating…" : item.status === "completed" ? "No video for this task." : item.status;
      replace(this.screen, posterEl(item), h("span", { class: "kls-screen-label", "data-testid": "kls-screen-label", text: label }));
    }
  }

  private showParts(ids: string[] | null): void {
    if (!ids || ids.length === 0) {
      replace(this.parts);
      return;
    }
    const buttons = ids.flatMap((id, i) => {
      const known = this.find(id);
      const label = `${i + 1}. ${known ? shortPrompt(known.prompt) : id.slice(0, 8)}`;
      // A part not on this page of results cannot be shown from here: named, not offered.
      const b = h("button", { type: "button", "data-testid": "kls-stage-part", "data-local-id": id, text: label, disabled: !known, title: known ? "Show this part in the player" : "Not on this page of results" });
      return i === 0 ? [b] : [" + ", b];
    });
    replace(this.parts, `Joined from ${ids.length} clips: `, ...buttons);
  }

  private showProblem(item: GalleryItem): void {
    if (item.status === "unknown") {
      replace(this.problem, UNKNOWN_TEXT, item.error?.message ? ` (${item.error.message})` : null);
      this.problem.className = "kls-note";
    } else if (item.error) {
      const e = item.error;
      replace(this.problem, e.code ? `${e.code}: ${e.message}` : e.message);
      this.problem.className = item.status === "failed" ? "kls-bad-text" : "kls-note";
    } else {
      replace(this.problem);
    }
  }

  private async continueFrom(slot: Slot, what: string): Promise<void> {
    const localId = this.item?.local_id;
    if (localId) await this.act({ kind: "continue_from", local_id: localId, slot }, what);
  }

  private async act(msg: Message, what: string): Promise<void> {
    this.answer.textContent = "…";
    this.answer.className = "kls-note";
    try {
      const { data } = await this.rpc.request<{ local_id?: unknown } | null>(msg);
      this.answer.textContent = ACTION_TEXT[what] ?? "Done.";
      if (what === "remix" && data && typeof data.local_id === "string") this.onStarted(data.local_id);
    } catch (e) {
      this.answer.textContent = errorText(e);
      this.answer.className = "kls-bad-text";
    }
  }
}
