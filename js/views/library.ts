// The library: this session's tasks and the history as one gallery of posters, with the history
// table one click away. The history's tools (status filter, search, paging) drive both views; the
// gallery lays the live cards over the page's rows (gallery-items.ts).

import { h } from "../dom";
import { mergeItems, type GalleryItem } from "../gallery-items";
import type { Rpc } from "../rpc";
import type { Scope } from "../scope";
import type { HistoryRow } from "../types";
import type { TaskStore } from "./cards";
import { GalleryView } from "./gallery";
import { HistoryView, type PageInfo } from "./history";

export type LibraryMode = "gallery" | "table";

export interface LibraryDeps {
  rpc: Rpc;
  scope: Scope;
  tasks: TaskStore;
  pageSize?: number;
  onOpen: (localId: string) => void;
}

export class LibraryView {
  readonly el: HTMLElement;
  readonly gallery: GalleryView;
  readonly history: HistoryView;
  private readonly galleryButton: HTMLButtonElement;
  private readonly tableButton: HTMLButtonElement;
  private page: PageInfo = { rows: [], offset: 0, filtered: false };
  private mode: LibraryMode = "gallery";
  private items: GalleryItem[] = [];
  /** Called when the items change (the player shows the current one's newest state). */
  onItems: (items: readonly GalleryItem[]) => void = () => {};

  constructor(private readonly deps: LibraryDeps) {
    const { scope, rpc, tasks } = deps;
    this.history = new HistoryView(rpc, scope, deps.pageSize);
    this.gallery = new GalleryView({ scope, rpc, tasks, onOpen: deps.onOpen });
    this.history.onSelect = deps.onOpen;
    this.history.onPage = (page) => {
      this.page = page;
      this.merge();
    };
    this.galleryButton = h("button", { type: "button", class: "kls-seg", "data-testid": "kls-view-gallery", "aria-pressed": "true", text: "Gallery" });
    this.tableButton = h("button", { type: "button", class: "kls-seg", "data-testid": "kls-view-table", "aria-pressed": "false", text: "Table" });
    this.el = h(
      "section",
      { class: "kls-library", "data-testid": "kls-library", "aria-label": "Results and history" },
      h(
        "div",
        { class: "kls-library-bar" },
        h("h4", { class: "kls-library-title", text: "Results" }),
        h("span", { class: "kls-segmented", role: "group", "aria-label": "Show results as" }, this.galleryButton, this.tableButton),
        this.history.tools,
        this.gallery.bar,
      ),
      this.gallery.el,
      this.history.tableBox,
    );
    scope.listen(this.galleryButton, "click", () => this.setMode("gallery"));
    scope.listen(this.tableButton, "click", () => this.setMode("table"));
    tasks.subscribe((changed) => {
      if (changed) this.merge();
      else this.tick();
    });
    this.setMode("gallery");
  }

  get itemsNow(): readonly GalleryItem[] {
    return this.items;
  }

  refresh(): void {
    this.history.refresh();
  }

  setMode(mode: LibraryMode): void {
    this.mode = mode;
    this.galleryButton.setAttribute("aria-pressed", String(mode === "gallery"));
    this.tableButton.setAttribute("aria-pressed", String(mode === "table"));
    this.gallery.el.hidden = mode !== "gallery";
    this.gallery.bar.hidden = mode !== "gallery";
    this.history.tableBox.hidden = mode !== "table";
    this.el.dataset["mode"] = mode;
    // The table measures its rows once it is laid out.
    if (mode === "table") this.history.refresh();
  }

  setCurrent(localId: string | null): void {
    this.gallery.setCurrent(localId);
    this.history.select(localId);
  }

  escape(): boolean {
    return this.mode === "gallery" && this.gallery.escape();
  }

  private merge(): void {
    const rows: readonly HistoryRow[] = this.page.rows;
    const withAll = this.page.offset === 0 && !this.page.filtered;
    this.items = mergeItems(this.deps.tasks.cards, rows, withAll);
    this.gallery.show(this.items);
    this.onItems(this.items);
  }

  private tick(): void {
    this.gallery.tick(Date.now());
  }
}
