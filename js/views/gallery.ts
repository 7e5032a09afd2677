// The gallery: this session's tasks and the history page as poster tiles, newest first. A click
// (or Enter) shows a tile in the player; the arrow keys, Home and End move between tiles (one tab
// stop for the whole grid). "Select" turns on picking clips to join (also Ctrl/Cmd+click and
// Shift+click for a range); "Join N clips" sends `stitch` with them in the order picked.

import { h } from "../dom";
import { columnsFromLefts, moveIndex } from "../gallery-keys";
import { isPlayable, type GalleryItem } from "../gallery-items";
import { grouped } from "../format";
import { errorText, type Rpc } from "../rpc";
import type { Scope } from "../scope";
import { Selection } from "../selection";
import type { LocalId } from "../protocol.gen";
import { timesText, type TaskStore } from "./cards";
import { TileView } from "./tile";

/** Tiles built at first; "Show more" adds as many again (a 10,000-row page stays light). */
export const TILES_AT_ONCE = 120;

export interface GalleryDeps {
  scope: Scope;
  rpc: Rpc;
  tasks: TaskStore;
  onOpen: (localId: string) => void;
}

export class GalleryView {
  /** The scrolling grid. */
  readonly el: HTMLElement;
  /** Select and Join, for the toolbar. */
  readonly bar: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly empty: HTMLElement;
  private readonly more: HTMLButtonElement;
  private readonly selectButton: HTMLButtonElement;
  private readonly joinButton: HTMLButtonElement;
  private readonly answer: HTMLElement;
  private readonly tiles = new Map<string, TileView>();
  private readonly selection = new Selection();
  private items: GalleryItem[] = [];
  private limit = TILES_AT_ONCE;
  private current: string | null = null;
  /** The tile that holds the grid's one tab stop. */
  private focusId: string | null = null;
  private selecting = false;
  private joining = false;

  constructor(private readonly deps: GalleryDeps) {
    const { scope } = deps;
    this.list = h("ul", { class: "kls-gallery", "data-testid": "kls-gallery", "aria-label": "Results, newest first" });
    this.empty = h("div", { class: "kls-note kls-gallery-empty", "data-testid": "kls-gallery-empty", text: "No results yet: the videos you generate appear here." });
    this.more = h("button", { type: "button", class: "kls-more", "data-testid": "kls-gallery-more", hidden: true });
    this.el = h("div", { class: "kls-gallery-scroll", "data-testid": "kls-gallery-scroll" }, this.empty, this.list, this.more);
    this.selectButton = h("button", { type: "button", "data-testid": "kls-select-mode", "aria-pressed": "false", text: "Select", title: "Pick clips to join (or Ctrl/⌘+click, Shift+click)" });
    this.joinButton = h("button", { type: "button", class: "kls-primary", "data-testid": "kls-join", hidden: true, disabled: true });
    this.answer = h("span", { class: "kls-note", role: "status", "data-testid": "kls-join-answer" });
    this.bar = h("div", { class: "kls-gallery-bar" }, this.selectButton, this.joinButton, this.answer);

    scope.listen(this.list, "click", (e) => this.onClick(e));
    scope.listen(this.list, "change", (e) => {
      const tile = this.tileOf(e.target);
      if (tile && e.target === tile.check) this.pick(tile.item.local_id, false);
    });
    scope.listen(this.list, "keydown", (e) => this.onKey(e));
    scope.listen(this.list, "focusin", (e) => {
      const tile = this.tileOf(e.target);
      if (tile) this.setFocus(tile.item.local_id);
    });
    scope.listen(this.more, "click", () => {
      this.limit += TILES_AT_ONCE;
      this.render();
    });
    scope.listen(this.selectButton, "click", () => this.setSelecting(!this.selecting));
    scope.listen(this.joinButton, "click", () => void this.join());
    this.render();
  }

  get shown(): readonly GalleryItem[] {
    return this.items;
  }

  get selectingNow(): boolean {
    return this.selecting;
  }

  show(items: GalleryItem[]): void {
    this.items = items;
    const playable = new Set(items.filter(isPlayable).map((i) => i.local_id));
    this.selection.retain((id) => playable.has(id));
    this.render();
  }

  setCurrent(localId: string | null): void {
    if (this.current !== null) this.tiles.get(this.current)?.setCurrent(false);
    this.current = localId;
    if (localId !== null) this.tiles.get(localId)?.setCurrent(true);
  }

  /** Times of the running tiles, once a second. */
  tick(nowMs: number): void {
    for (const t of this.tiles.values()) {
      const live = t.item.live ? this.deps.tasks.get(t.item.local_id) : undefined;
      if (live) t.times.textContent = timesText(live.card, live.receivedMs, nowMs);
    }
  }

  /** Escape: leaves the selection mode. True when there was something to close. */
  escape(): boolean {
    if (!this.selecting) return false;
    this.setSelecting(false);
    this.selectButton.focus();
    return true;
  }

  /** Moves keyboard focus into the grid (on the current tile, or the first). */
  focus(): void {
    const id = this.focusId ?? this.current ?? this.items[0]?.local_id ?? null;
    if (id !== null) this.tiles.get(id)?.open.focus();
  }

  private render(): void {
    const shown = this.items.slice(0, this.limit);
    const keep = new Set(shown.map((i) => i.local_id));
    for (const [id, t] of this.tiles) {
      if (!keep.has(id)) {
        t.el.remove();
        this.tiles.delete(id);
      }
    }
    shown.forEach((item, i) => {
      let t = this.tiles.get(item.local_id);
      if (t) t.update(item);
      else {
        t = new TileView(item);
        this.tiles.set(item.local_id, t);
      }
      t.setCurrent(item.local_id === this.current);
      t.setPicked(this.selection.has(item.local_id));
      // Only out-of-place nodes move (moving a focused node would drop its focus).
      const at = this.list.children[i] ?? null;
      if (at !== t.el) this.list.insertBefore(t.el, at);
    });
    this.tick(Date.now());
    this.empty.hidden = this.items.length > 0;
    if (this.deps.tasks.problem && this.items.length === 0) {
      this.empty.textContent = this.deps.tasks.problem;
      this.empty.className = "kls-bad-text kls-gallery-empty";
    }
    const left = this.items.length - shown.length;
    this.more.hidden = left <= 0;
    this.more.textContent = `Show ${grouped(Math.min(left, TILES_AT_ONCE))} more (${grouped(left)} not shown)`;
    if (this.focusId === null || !this.tiles.has(this.focusId)) this.focusId = this.current !== null && this.tiles.has(this.current) ? this.current : shown[0]?.local_id ?? null;
    for (const [id, t] of this.tiles) t.open.tabIndex = id === this.focusId ? 0 : -1;
    this.list.classList.toggle("kls-selecting", this.selecting);
    this.showJoin();
  }

  private tileOf(target: EventTarget | null): TileView | null {
    const li = (target as Element | null)?.closest?.("li.kls-tile");
    const id = li?.getAttribute("data-local-id");
    return id ? this.tiles.get(id) ?? null : null;
  }

  private onClick(e: MouseEvent): void {
    const tile = this.tileOf(e.target);
    if (!tile || e.target === tile.check) return;
    const id = tile.item.local_id;
    // The keyboard carries on from the tile clicked (arrows, Space, Escape).
    this.setFocus(id);
    if (document.activeElement !== tile.open) tile.open.focus({ preventScroll: true });
    if (e.shiftKey || e.ctrlKey || e.metaKey) {
      e.preventDefault();
      if (!this.selecting) this.setSelecting(true);
      this.pick(id, e.shiftKey);
      return;
    }
    if (this.selecting && isPlayable(tile.item)) this.pick(id, false);
    else this.deps.onOpen(id);
  }

  private onKey(e: KeyboardEvent): void {
    const tile = this.tileOf(e.target);
    if (!tile) return;
    if (e.key === " " && this.selecting && e.target === tile.open) {
      e.preventDefault();
      e.stopPropagation();
      if (isPlayable(tile.item)) this.pick(tile.item.local_id, e.shiftKey);
      return;
    }
    const order = [...this.tiles.values()].sort((a, b) => (a.el.compareDocumentPosition(b.el) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
    const index = order.indexOf(tile);
    const to = moveIndex(e.key, index, order.length, this.columns(order));
    if (to === null) return;
    // Handled here: JupyterLab must not also move between cells.
    e.preventDefault();
    e.stopPropagation();
    const next = order[to];
    if (!next) return;
    this.setFocus(next.item.local_id);
    next.open.focus();
    next.el.scrollIntoView?.({ block: "nearest" });
  }

  private columns(order: TileView[]): number {
    return columnsFromLefts(order.slice(0, 24).map((t) => t.el.offsetLeft));
  }

  private setFocus(id: string): void {
    this.focusId = id;
    for (const [tid, t] of this.tiles) t.open.tabIndex = tid === id ? 0 : -1;
  }

  private pick(id: string, range: boolean): void {
    const item = this.items.find((i) => i.local_id === id);
    if (!item || !isPlayable(item)) {
      this.tiles.get(id)?.setPicked(false);
      return;
    }
    if (range) this.selection.extend(id, this.items.filter(isPlayable).map((i) => i.local_id));
    else this.selection.toggle(id);
    for (const [tid, t] of this.tiles) t.setPicked(this.selection.has(tid));
    this.showJoin();
  }

  private setSelecting(on: boolean): void {
    this.selecting = on;
    if (!on) this.selection.clear();
    this.selectButton.setAttribute("aria-pressed", String(on));
    this.selectButton.textContent = on ? "Done" : "Select";
    for (const t of this.tiles.values()) {
      t.setPicked(this.selection.has(t.item.local_id));
      t.check.tabIndex = on ? 0 : -1;
    }
    this.list.classList.toggle("kls-selecting", on);
    this.answer.textContent = on ? "Pick clips in the order they should play." : "";
    this.answer.className = "kls-note";
    this.showJoin();
  }

  private showJoin(): void {
    const n = this.selection.size;
    this.joinButton.hidden = !this.selecting;
    this.joinButton.disabled = n < 2 || this.joining;
    this.joinButton.textContent = `Join ${grouped(n)} clip${n === 1 ? "" : "s"}`;
  }

  private async join(): Promise<void> {
    const ids = [...this.selection.ids];
    if (ids.length < 2 || this.joining) return;
    this.joining = true;
    this.showJoin();
    this.answer.textContent = `Joining ${ids.length} clips…`;
    this.answer.className = "kls-note";
    try {
      const { data } = await this.deps.rpc.request<LocalId>({ kind: "stitch", local_ids: ids });
      this.joining = false;
      this.setSelecting(false);
      this.answer.textContent = `Joined ${ids.length} clips.`;
      if (data && typeof data.local_id === "string") this.deps.onOpen(data.local_id);
    } catch (e) {
      this.joining = false;
      this.answer.textContent = `Could not join: ${errorText(e)}`;
      this.answer.className = "kls-bad-text";
      this.showJoin();
    }
  }
}

