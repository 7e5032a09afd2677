// The history table: one page of rows from Python (`history` request), newest first, with a
// status filter, a text search, a page size (up to 10,000 rows) and paging. The page is
// re-requested when `history_rev` or `history_count` changes, coalesced. Clicking a row (or moving
// with the arrow keys in the focused table) selects it: `onSelect` shows it in the studio's player.
// The page's rows also feed the gallery (`onPage`); the tools (filter, search, paging) serve both.
//
// The table is windowed (virtual-rows.ts): only the rows in view plus a few each side exist in the
// DOM, between two spacer rows as tall as the rows left out, so a 10,000-row page costs about as
// much as a 50-row one. Rows have one fixed height (one line, ellipsis) and the columns fixed
// widths (`table-layout: fixed`), so neither depends on rows not built. Scrolling rebuilds the
// window at most once per animation frame, and only when the rows in view leave it. Rows are built
// with a DocumentFragment and textContent only.

import { Coalescer } from "../coalesce";
import { h, replace } from "../dom";
import { grouped, localTime, seconds } from "../format";
import { onPosterRoutesFailed, posterRoutesUsable } from "../media-route";
import { RECORD_STATUSES } from "../protocol.gen";
import { errorText, type Rpc } from "../rpc";
import type { Scope } from "../scope";
import type { HistoryPage, HistoryRow } from "../types";
import { browserFrames, covers, EMPTY_WINDOW, FrameCoalescer, rowWindow, visibleRange, windowPatch, type Frames, type RowWindow } from "../virtual-rows";
import { settingsText } from "./cards";

export const PAGE_SIZE = 50;
/** Page sizes offered; Python answers up to 10,000 rows per request. */
export const PAGE_SIZES = [50, 500, 10_000];
export const MAX_PAGE = 10_000;
/** A row's height in px before one is measured (the CSS aims at it: one line, fixed height). */
export const ROW_HEIGHT = 26;
/** The table's visible height in px before it is measured (the CSS max-height). */
const VIEWPORT = 420;
const SEARCH_DEBOUNCE_MS = 250;
// The history's statuses (Python's statuses.RECORD_STATUSES, generated); "" is every status.
const STATUSES = ["", ...RECORD_STATUSES];
export const COLUMNS = ["Status", "Prompt", "Settings", "Created", "Elapsed", "Error", "By"];

function cell(tr: HTMLTableRowElement, text: string, cls?: string): void {
  const td = document.createElement("td");
  if (cls) td.className = cls;
  td.textContent = text;
  tr.appendChild(td);
}

/** The table rows for `rows`, as one fragment. Pure apart from creating nodes. `firstIndex` is
 * the index of `rows[0]` in the page (for aria-rowindex; the header row is 1). */
export function renderHistoryRows(rows: readonly HistoryRow[], selected: string | null = null, firstIndex = 0): DocumentFragment {
  const frag = document.createDocumentFragment();
  let index = firstIndex + 2;
  for (const r of rows) {
    const tr = document.createElement("tr");
    tr.setAttribute("data-testid", "kls-history-row");
    tr.setAttribute("aria-rowindex", String(index++));
    tr.setAttribute("data-local-id", String(r.local_id));
    tr.setAttribute("data-status", String(r.status));
    if (r.local_id === selected) tr.setAttribute("aria-selected", "true");
    cell(tr, String(r.status));
    const prompt = String(r.prompt ?? "");
    cell(tr, prompt, "kls-cell-prompt");
    (tr.lastChild as HTMLElement).title = prompt;
    cell(tr, settingsText(String(r.resolution), Number(r.duration), r.generate_audio === true));
    cell(tr, localTime(Number(r.created)));
    cell(tr, typeof r.elapsed === "number" ? seconds(r.elapsed) : "");
    const error = [r.error_code, r.error_message].filter((x) => typeof x === "string" && x !== "").join(": ");
    cell(tr, error, "kls-cell-error");
    // One line per row (the table is windowed): the whole prompt and error show on hover.
    if (error) (tr.lastChild as HTMLElement).title = error;
    // Who made it (a shared history's gallery shows everyone's): text, never HTML.
    cell(tr, typeof r.user === "string" ? r.user : "", "kls-cell-user");
    frag.appendChild(tr);
  }
  return frag;
}

/** A row standing in for the rows not built above or below the window (height set by `setSpacer`). */
function spacer(which: "top" | "bottom"): HTMLTableRowElement {
  const tr = document.createElement("tr");
  tr.className = "kls-spacer";
  tr.setAttribute("aria-hidden", "true");
  tr.setAttribute("data-spacer", which);
  tr.hidden = true;
  const td = document.createElement("td");
  td.colSpan = COLUMNS.length;
  tr.appendChild(td);
  return tr;
}

/** Removes a built row (never a spacer). */
function dropRow(tr: Element | null): void {
  if (tr && !tr.classList.contains("kls-spacer")) tr.remove();
}

function setSpacer(tr: HTMLTableRowElement, height: number): void {
  tr.hidden = height <= 0;
  (tr.firstChild as HTMLElement).style.height = `${height}px`;
}

/** What the page shows, for the gallery: `filtered` when a status or text narrows it. */
export interface PageInfo {
  rows: readonly HistoryRow[];
  offset: number;
  filtered: boolean;
}

export class HistoryView {
  /** The tools (filter, search, paging) and the table, for a caller that lays them out itself. */
  readonly tools: HTMLElement;
  readonly tableBox: HTMLElement;
  readonly el: HTMLElement;
  onSelect: (localId: string) => void = () => {};
  onPage: (page: PageInfo) => void = () => {};
  private readonly body: HTMLTableSectionElement;
  private readonly head: HTMLTableSectionElement;
  private readonly table: HTMLTableElement;
  private readonly wrap: HTMLElement;
  private readonly sizeSelect: HTMLSelectElement;
  private readonly topSpacer = spacer("top");
  private readonly bottomSpacer = spacer("bottom");
  private readonly range: HTMLElement;
  private readonly prev: HTMLButtonElement;
  private readonly next: HTMLButtonElement;
  private readonly statusSelect: HTMLSelectElement;
  private readonly search: HTMLInputElement;
  private readonly coalescer: Coalescer;
  private rows: HistoryRow[] = [];
  private total = 0;
  private offset = 0;
  private selected: string | null = null;
  private searchTimer: ReturnType<typeof setTimeout> | null = null;
  private limit: number;
  private built: RowWindow = EMPTY_WINDOW;
  private rowHeight = ROW_HEIGHT;
  private measured = false;
  private resetScroll = false;
  private readonly frame: FrameCoalescer;

  constructor(
    private readonly rpc: Rpc,
    private readonly scope: Scope,
    pageSize = PAGE_SIZE,
    frames: Frames = browserFrames,
  ) {
    this.limit = Math.max(1, Math.min(MAX_PAGE, Math.floor(pageSize) || PAGE_SIZE));
    // Posters by route failed on this page (no media route behind it): list them as bytes.
    scope.add(onPosterRoutesFailed(() => this.refresh()));
    const sizes = [...new Set([...PAGE_SIZES, this.limit])].sort((a, b) => a - b);
    this.sizeSelect = h(
      "select",
      { "data-testid": "kls-history-page-size", "aria-label": "Rows per page" },
      ...sizes.map((n) => h("option", { value: n, text: `${grouped(n)} per page` })),
    );
    this.sizeSelect.value = String(this.limit);
    this.statusSelect = h("select", { "data-testid": "kls-history-status", "aria-label": "Filter by status" }, ...STATUSES.map((s) => h("option", { value: s, text: s || "all statuses" })));
    this.search = h("input", { type: "search", placeholder: "Search prompts…", "data-testid": "kls-history-search", "aria-label": "Search the history" });
    this.prev = h("button", { type: "button", "data-testid": "kls-history-prev", text: "‹ Newer" });
    this.next = h("button", { type: "button", "data-testid": "kls-history-next", text: "Older ›" });
    this.range = h("span", { class: "kls-note", "data-testid": "kls-history-range" });
    this.body = h("tbody", { "data-testid": "kls-history-body" });
    this.head = h("thead", {}, h("tr", { "aria-rowindex": 1 }, ...COLUMNS.map((c) => h("th", { text: c }))));
    // Fixed column widths: the layout never depends on the rows (most of which are not built).
    const cols = h("colgroup", {}, ...COLUMNS.map((c) => h("col", { class: `kls-col-${c.toLowerCase()}` })));
    this.table = h("table", { class: "kls-table kls-history-table", "aria-rowcount": 1 }, cols, this.head, this.body);
    // Focusable, so the keyboard can scroll it and move the selection (↑ ↓).
    this.wrap = h("div", { class: "kls-table-wrap", "data-testid": "kls-history-scroll", tabindex: 0, role: "region", "aria-label": "History table" }, this.table);
    this.tools = h("div", { class: "kls-history-tools" }, this.statusSelect, this.search, this.prev, this.next, this.sizeSelect, this.range);
    this.tableBox = this.wrap;
    this.el = h("div", { class: "kls-section" }, this.tools, this.wrap);
    this.coalescer = new Coalescer(() => this.fetch());
    this.frame = new FrameCoalescer(() => {
      if (!this.scope.isDisposed) this.draw(false);
    }, frames);
    scope.add(() => this.frame.cancel());

    scope.listen(this.statusSelect, "change", () => this.goTo(0));
    scope.listen(this.search, "input", () => {
      scope.clearTimeout(this.searchTimer);
      this.searchTimer = scope.setTimeout(() => this.goTo(0), SEARCH_DEBOUNCE_MS);
    });
    scope.listen(this.prev, "click", () => this.goTo(Math.max(0, this.offset - this.limit)));
    scope.listen(this.next, "click", () => this.goTo(this.offset + this.limit));
    scope.listen(this.sizeSelect, "change", () => {
      const n = Number(this.sizeSelect.value);
      this.limit = Math.max(1, Math.min(MAX_PAGE, Math.floor(n) || PAGE_SIZE));
      // Stay on the page that holds the first row shown now.
      this.goTo(Math.floor(this.offset / this.limit) * this.limit);
    });
    scope.listen(this.wrap, "scroll", () => this.frame.request());
    // One delegated listener for every row, instead of one per row.
    scope.listen(this.body, "click", (e) => {
      const tr = (e.target as Element | null)?.closest?.("tr");
      const id = tr?.getAttribute("data-local-id");
      if (id) this.choose(id);
    });
    scope.listen(this.wrap, "keydown", (e) => {
      if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
      e.preventDefault();
      e.stopPropagation();
      const at = this.rows.findIndex((r) => r.local_id === this.selected);
      const next = this.rows[Math.min(this.rows.length - 1, Math.max(0, at < 0 ? 0 : at + (e.key === "ArrowDown" ? 1 : -1)))];
      if (!next) return;
      this.choose(next.local_id);
      this.scrollToRow(this.rows.indexOf(next));
    });
    this.showRange();
  }

  /** Whether a status or text narrows the page. */
  get filtered(): boolean {
    return this.statusSelect.value !== "" || this.search.value.trim() !== "";
  }

  get offsetNow(): number {
    return this.offset;
  }

  /** Re-request the current page (history changed). */
  refresh(): void {
    this.coalescer.trigger();
  }

  private goTo(offset: number): void {
    this.offset = offset;
    this.resetScroll = true; // another page or filter: start at its top
    this.refresh();
  }

  private async fetch(): Promise<void> {
    const msg: { kind: string } & Record<string, unknown> = { kind: "history", offset: this.offset, limit: this.limit };
    if (this.statusSelect.value) msg["status"] = this.statusSelect.value;
    const text = this.search.value.trim();
    if (text) msg["text"] = text;
    if (posterRoutesUsable()) msg["poster_routes"] = true;
    try {
      const { data } = await this.rpc.request<HistoryPage>(msg);
      if (this.scope.isDisposed) return;
      this.rows = Array.isArray(data?.rows) ? data.rows : [];
      this.total = typeof data?.total === "number" ? data.total : this.rows.length;
      // The page emptied under us (rows deleted, filter narrowed): step back to the last page.
      if (this.rows.length === 0 && this.offset > 0 && this.total > 0) {
        this.offset = Math.max(0, Math.floor((this.total - 1) / this.limit) * this.limit);
        this.refresh();
      }
      if (this.resetScroll) {
        this.resetScroll = false;
        this.wrap.scrollTop = 0;
      }
      this.table.setAttribute("aria-rowcount", String(this.rows.length + 1));
      this.draw(true);
      this.showRange();
      this.onPage({ rows: this.rows, offset: this.offset, filtered: this.filtered });
    } catch (e) {
      this.range.textContent = `History unavailable: ${errorText(e)}`;
    }
  }

  /** Build the rows in view (plus overscan) between the spacers. `force` (new rows) builds them
   * all afresh; a scroll does nothing while the rows in view stay inside the built window, and
   * otherwise builds only the rows that come into the window and drops those that leave it.
   * Reads layout first, then writes. */
  private draw(force: boolean): void {
    const input = {
      count: this.rows.length,
      rowHeight: this.rowHeight,
      scrollTop: this.wrap.scrollTop,
      viewport: this.wrap.clientHeight || VIEWPORT,
      offset: this.head.offsetHeight,
    };
    if (!force && covers(this.built, visibleRange(input))) return;
    const next = rowWindow(input);
    const patch = force ? null : windowPatch(this.built, next);
    const build = ([start, end]: readonly [number, number]) => renderHistoryRows(this.rows.slice(start, end), this.selected, start);
    if (patch) {
      for (let i = 0; i < patch.dropTop; i++) dropRow(this.topSpacer.nextElementSibling);
      for (let i = 0; i < patch.dropBottom; i++) dropRow(this.bottomSpacer.previousElementSibling);
      if (patch.addTop[1] > patch.addTop[0]) this.topSpacer.after(build(patch.addTop));
      if (patch.addBottom[1] > patch.addBottom[0]) this.bottomSpacer.before(build(patch.addBottom));
    } else {
      replace(this.body, this.topSpacer, build([next.start, next.end]), this.bottomSpacer);
    }
    setSpacer(this.topSpacer, next.top);
    setSpacer(this.bottomSpacer, next.bottom);
    this.built = next;
    if (!this.measured) this.measure();
  }

  /** The real row height (theme fonts differ), from the rows just built; rebuild if it differs. */
  private measure(): void {
    const first = this.body.querySelector<HTMLElement>('[data-testid="kls-history-row"]');
    const n = this.built.end - this.built.start;
    if (!first || n < 2) return;
    const last = this.body.querySelectorAll<HTMLElement>('[data-testid="kls-history-row"]')[n - 1];
    const height = last ? (last.getBoundingClientRect().bottom - first.getBoundingClientRect().top) / n : 0;
    if (!(height > 0)) return; // not laid out (hidden, or no layout engine): keep the default
    this.measured = true;
    if (Math.abs(height - this.rowHeight) < 0.25) return;
    this.rowHeight = height;
    this.draw(true);
  }

  private showRange(): void {
    const from = this.total === 0 ? 0 : this.offset + 1;
    const to = Math.min(this.offset + this.rows.length, this.total);
    this.range.textContent = this.total === 0 ? "No tasks in the history." : `${grouped(from)}–${grouped(to)} of ${grouped(this.total)}`;
    this.prev.disabled = this.offset === 0;
    this.next.disabled = this.offset + this.limit >= this.total;
  }

  /** Marks `localId` as the selected row (the studio's player shows it); no callback. */
  select(localId: string | null): void {
    this.selected = localId;
    for (const tr of Array.from(this.body.children)) {
      if (localId !== null && tr.getAttribute("data-local-id") === localId) tr.setAttribute("aria-selected", "true");
      else tr.removeAttribute("aria-selected");
    }
  }

  private choose(localId: string): void {
    this.select(localId);
    this.onSelect(localId);
  }

  /** Scrolls just enough for row `index` to be in view. */
  private scrollToRow(index: number): void {
    const top = this.head.offsetHeight + index * this.rowHeight;
    const view = this.wrap.clientHeight || VIEWPORT;
    if (top - this.head.offsetHeight < this.wrap.scrollTop) this.wrap.scrollTop = top - this.head.offsetHeight;
    else if (top + this.rowHeight > this.wrap.scrollTop + view) this.wrap.scrollTop = top + this.rowHeight - view;
    this.frame.request();
  }
}
