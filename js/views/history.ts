// The history table: one page of rows from Python (`history` request), newest first, with a
// status filter, a text search and paging. The page is re-requested when `history_rev` or
// `history_count` changes, coalesced. Clicking a row shows its video and offers "Load settings"
// and "Remix". Rows are built with a DocumentFragment and textContent only: 10,000 rows stay fast.

import { Coalescer } from "../coalesce";
import { h, replace } from "../dom";
import { grouped, localTime, seconds } from "../format";
import { errorText, type Rpc } from "../rpc";
import type { Scope } from "../scope";
import type { HistoryPage, HistoryRow } from "../types";
import { VideoPlayer, type VideoDeps } from "../video";
import { settingsText } from "./cards";

export const PAGE_SIZE = 50;
const SEARCH_DEBOUNCE_MS = 250;
// The history's statuses (kling_studio/records.py STATUSES); "" is every status.
const STATUSES = ["", "submitting", "pending", "processing", "completed", "failed", "cancelled", "unknown", "rejected"];
export const COLUMNS = ["Status", "Prompt", "Settings", "Created", "Elapsed", "Error"];

function cell(tr: HTMLTableRowElement, text: string, cls?: string): void {
  const td = document.createElement("td");
  if (cls) td.className = cls;
  td.textContent = text;
  tr.appendChild(td);
}

/** The table rows for `rows`, as one fragment. Pure apart from creating nodes. */
export function renderHistoryRows(rows: readonly HistoryRow[], selected: string | null = null): DocumentFragment {
  const frag = document.createDocumentFragment();
  for (const r of rows) {
    const tr = document.createElement("tr");
    tr.setAttribute("data-testid", "kls-history-row");
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
    cell(tr, [r.error_code, r.error_message].filter((x) => typeof x === "string" && x !== "").join(": "));
    frag.appendChild(tr);
  }
  return frag;
}

export class HistoryView {
  readonly el: HTMLElement;
  private readonly body: HTMLTableSectionElement;
  private readonly range: HTMLElement;
  private readonly prev: HTMLButtonElement;
  private readonly next: HTMLButtonElement;
  private readonly statusSelect: HTMLSelectElement;
  private readonly search: HTMLInputElement;
  private readonly detail: HTMLElement;
  private readonly coalescer: Coalescer;
  private rows: HistoryRow[] = [];
  private total = 0;
  private offset = 0;
  private selected: string | null = null;
  private player: VideoPlayer | null = null;
  private searchTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly rpc: Rpc,
    private readonly deps: VideoDeps,
    private readonly scope: Scope,
    private readonly limit = PAGE_SIZE,
  ) {
    this.statusSelect = h("select", { "data-testid": "kls-history-status", "aria-label": "Filter by status" }, ...STATUSES.map((s) => h("option", { value: s, text: s || "all statuses" })));
    this.search = h("input", { type: "search", placeholder: "Search prompts…", "data-testid": "kls-history-search", "aria-label": "Search the history" });
    this.prev = h("button", { type: "button", "data-testid": "kls-history-prev", text: "‹ Newer" });
    this.next = h("button", { type: "button", "data-testid": "kls-history-next", text: "Older ›" });
    this.range = h("span", { class: "kls-note", "data-testid": "kls-history-range" });
    this.body = h("tbody", { "data-testid": "kls-history-body" });
    const head = h("thead", {}, h("tr", {}, ...COLUMNS.map((c) => h("th", { text: c }))));
    this.detail = h("div", { class: "kls-detail", "data-testid": "kls-history-detail", hidden: true });
    this.el = h(
      "div",
      { class: "kls-section" },
      h("h4", { text: "History" }),
      h("div", { class: "kls-history-tools" }, this.statusSelect, this.search, this.prev, this.next, this.range),
      h("div", { class: "kls-table-wrap" }, h("table", { class: "kls-table" }, head, this.body)),
      this.detail,
    );
    this.coalescer = new Coalescer(() => this.fetch());

    scope.listen(this.statusSelect, "change", () => this.goTo(0));
    scope.listen(this.search, "input", () => {
      scope.clearTimeout(this.searchTimer);
      this.searchTimer = scope.setTimeout(() => this.goTo(0), SEARCH_DEBOUNCE_MS);
    });
    scope.listen(this.prev, "click", () => this.goTo(Math.max(0, this.offset - this.limit)));
    scope.listen(this.next, "click", () => this.goTo(this.offset + this.limit));
    // One delegated listener for every row, instead of one per row.
    scope.listen(this.body, "click", (e) => {
      const tr = (e.target as Element | null)?.closest?.("tr");
      const id = tr?.getAttribute("data-local-id");
      if (id) this.select(id);
    });
    this.showRange();
  }

  /** Re-request the current page (history changed). */
  refresh(): void {
    this.coalescer.trigger();
  }

  private goTo(offset: number): void {
    this.offset = offset;
    this.refresh();
  }

  private async fetch(): Promise<void> {
    const msg: { kind: string } & Record<string, unknown> = { kind: "history", offset: this.offset, limit: this.limit };
    if (this.statusSelect.value) msg["status"] = this.statusSelect.value;
    const text = this.search.value.trim();
    if (text) msg["text"] = text;
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
      replace(this.body, renderHistoryRows(this.rows, this.selected));
      this.showRange();
      if (this.selected) this.showDetail(false);
    } catch (e) {
      this.range.textContent = `History unavailable: ${errorText(e)}`;
    }
  }

  private showRange(): void {
    const from = this.total === 0 ? 0 : this.offset + 1;
    const to = Math.min(this.offset + this.rows.length, this.total);
    this.range.textContent = this.total === 0 ? "No tasks in the history." : `${grouped(from)}–${grouped(to)} of ${grouped(this.total)}`;
    this.prev.disabled = this.offset === 0;
    this.next.disabled = this.offset + this.limit >= this.total;
  }

  private select(localId: string): void {
    this.selected = localId;
    for (const tr of Array.from(this.body.children)) {
      if (tr.getAttribute("data-local-id") === localId) tr.setAttribute("aria-selected", "true");
      else tr.removeAttribute("aria-selected");
    }
    this.showDetail(true);
  }

  /** The detail panel of the selected row. `fresh` is a new click (rebuilds the video). */
  private showDetail(fresh: boolean): void {
    const row = this.rows.find((r) => r.local_id === this.selected);
    if (!row) return; // the selected task is on another page now: keep the panel as it was
    // On a page refresh, rebuild only when the selected task just got its video (a playing video
    // must not restart every time the history changes).
    if (!fresh && (this.player !== null || !row.has_video)) return;
    this.player?.stop();
    this.player = row.has_video ? new VideoPlayer(row.local_id, this.deps) : null;
    const answer = h("span", { class: "kls-note", role: "status", "data-testid": "kls-history-answer" });
    const load = h("button", { type: "button", "data-testid": "kls-load-settings", text: "Load settings" });
    const remix = h("button", { type: "button", "data-testid": "kls-remix", text: "Remix" });
    this.scope.listen(load, "click", () => void this.act(answer, { kind: "load_settings", local_id: row.local_id }, "Settings loaded into the form."));
    this.scope.listen(remix, "click", () => void this.act(answer, { kind: "remix", local_id: row.local_id, changes: {} }, "Remix started as a new task."));
    const err = [row.error_code, row.error_message].filter((x) => typeof x === "string" && x !== "").join(": ");
    replace(
      this.detail,
      h("div", { class: "kls-prompt", text: row.prompt }),
      h("div", { class: "kls-note", text: `${row.status} · ${settingsText(row.resolution, row.duration, row.generate_audio)} · ${localTime(row.created)}${row.task_id ? ` · ${row.task_id}` : ""}` }),
      err ? h("div", { class: "kls-bad-text", text: err }) : null,
      this.player?.el ?? h("div", { class: "kls-note", text: "No video for this task." }),
      h("div", { class: "kls-row" }, load, remix, answer),
    );
    this.detail.hidden = false;
  }

  private async act(answer: HTMLElement, msg: { kind: string } & Record<string, unknown>, done: string): Promise<void> {
    answer.textContent = "…";
    try {
      await this.rpc.request(msg);
      answer.textContent = done;
      answer.className = "kls-note";
    } catch (e) {
      answer.textContent = errorText(e);
      answer.className = "kls-bad-text";
    }
  }
}
