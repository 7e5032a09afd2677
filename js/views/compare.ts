// The A/B comparison: a collapsible "Compare" section holding the grid builder
// (compare-builder.ts) and the comparison on screen (compare-board.ts: cells, judging, the shared
// control bar). Every string goes in as text.

import type { AnyModel } from "@anywidget/types";
import type { Traits } from "../types";
import { h } from "../dom";
import { Board } from "./compare-board";
import { Builder } from "./compare-builder";
import { readComparison, type CompareDeps } from "./compare-model";

export { PLAN_DEBOUNCE_MS } from "./compare-builder";
export { confirmText, linesOf, paramName, paramText, planSummary, raterLines, ratingSummaryText, readComparison, readPlan, readPlanCosts, readRaters, visibleParams, type CompareDeps } from "./compare-model";

// --- the section ---

export class CompareView {
  readonly el: HTMLElement;
  private readonly toggleButton: HTMLButtonElement;
  private readonly body: HTMLElement;
  private readonly builder: Builder;
  private readonly board: Board;
  private readonly model: AnyModel<Traits>;
  private open = false;
  /** A new comparison arrived (the studio switches to this view). */
  onFresh: () => void = () => {};

  constructor(deps: CompareDeps) {
    const { model, scope } = deps;
    this.model = model;
    this.board = new Board(deps);
    this.builder = new Builder(deps, () => {
      const n = readComparison(model.get("comparison"))?.confirm_above;
      return typeof n === "number" && Number.isFinite(n) ? n : null;
    });
    this.toggleButton = h("button", { type: "button", class: "kls-compare-toggle", "data-testid": "kls-compare-toggle", "aria-expanded": "false", text: "▸ Compare" });
    this.body = h("div", { class: "kls-compare-body", "data-testid": "kls-compare-body", hidden: true }, this.builder.el, this.board.el);
    this.el = h("section", { class: "kls-section kls-compare", "data-testid": "kls-compare" }, this.toggleButton, this.body);

    scope.listen(this.toggleButton, "click", () => this.setOpen(!this.open));
    scope.on(model, "change:comparison", () => this.showComparison());
    scope.on(model, "change:rules", () => this.builder.applyRules());
    // Empty axes mean the form's values, and "reused" depends on the pictures: re-plan.
    scope.on(model, "change:form", () => this.builder.changed());
    scope.on(model, "change:pictures", () => this.builder.changed());
    scope.on(model, "msg:custom", (msg: unknown) => {
      if (typeof msg === "object" && msg !== null && (msg as { kind?: unknown }).kind === "task") this.board.task((msg as { card?: unknown }).card);
    });
    this.showComparison();
  }

  setOpen(open: boolean): void {
    this.open = open;
    this.body.hidden = !open;
    this.toggleButton.setAttribute("aria-expanded", String(open));
    this.toggleButton.textContent = open ? "▾ Compare" : "▸ Compare";
    this.builder.setActive(open);
    if (!open) this.board.pause();
  }

  private showComparison(): void {
    const fresh = this.board.show(readComparison(this.model.get("comparison")));
    // A new comparison on screen: show it.
    if (fresh && !this.open) this.setOpen(true);
    if (fresh) this.onFresh();
  }

  escape(): boolean {
    return this.builder.escape();
  }

  get hasComparison(): boolean {
    return readComparison(this.model.get("comparison")) !== null;
  }
}

