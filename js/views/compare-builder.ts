// The grid builder of the comparison view: prompts and negative prompts one per line, resolution
// and duration boxes, with and without the last frame; it asks Python for the plan (`compare_plan`,
// debounced) and shows how many tasks it means, and how many are paid, before anything is sent;
// "Run comparison" sends `compare_run`, after an explicit confirmation above `confirm_above`.

import { h, replace } from "../dom";
import { errorText, RpcError } from "../rpc";
import type { Axes, ComparePlan } from "../types";
import { confirmText, linesOf, paramsEl, planSummary, plural, readPlan, visibleParams, type CompareDeps } from "./compare-model";

export const PLAN_DEBOUNCE_MS = 300;

// --- the grid builder ---

interface CurrentPlan {
  rev: number;
  axes: Axes;
  plan: ComparePlan;
}

export class Builder {
  readonly el: HTMLElement;
  private readonly prompts: HTMLTextAreaElement;
  private readonly negatives: HTMLTextAreaElement;
  private readonly resolutions: HTMLElement;
  private readonly durations: HTMLElement;
  private readonly tail: HTMLInputElement;
  private readonly summary: HTMLElement;
  private readonly variants: HTMLElement;
  private readonly run: HTMLButtonElement;
  private readonly confirmBox: HTMLElement;
  private readonly confirmLine: HTMLElement;
  private readonly confirmButton: HTMLButtonElement;
  private readonly cancelButton: HTMLButtonElement;
  private readonly message: HTMLElement;
  private rev = 0;
  private plan: CurrentPlan | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private busy = false;
  private confirming: CurrentPlan | null = null;
  active = false;

  constructor(
    private readonly deps: CompareDeps,
    private readonly threshold: () => number | null,
  ) {
    const { scope } = deps;
    this.prompts = h("textarea", { rows: 3, "data-testid": "kls-compare-prompts", "aria-label": "Prompts to compare, one per line", placeholder: "One prompt per line (empty: the form's prompt)" });
    this.negatives = h("textarea", { rows: 2, "data-testid": "kls-compare-negatives", "aria-label": "Negative prompts to compare, one per line", placeholder: "Optional: one negative prompt per line" });
    this.resolutions = h("span", { class: "kls-compare-boxes" });
    this.durations = h("span", { class: "kls-compare-boxes" });
    this.tail = h("input", { type: "checkbox", "data-testid": "kls-compare-tail" });
    this.summary = h("div", { class: "kls-compare-summary", "data-testid": "kls-compare-plan", "aria-live": "polite" });
    this.variants = h("ul", { class: "kls-compare-plan-variants", "data-testid": "kls-compare-plan-variants" });
    this.run = h("button", { type: "button", class: "kls-primary", "data-testid": "kls-compare-run", text: "Run comparison" });
    this.confirmLine = h("span", { "data-testid": "kls-compare-confirm-text" });
    this.confirmButton = h("button", { type: "button", class: "kls-primary", "data-testid": "kls-compare-confirm", text: "Confirm" });
    this.cancelButton = h("button", { type: "button", "data-testid": "kls-compare-cancel", text: "Cancel" });
    this.confirmBox = h("span", { class: "kls-compare-confirm", "data-testid": "kls-compare-confirm-box", role: "alertdialog", hidden: true }, this.confirmLine, this.confirmButton, this.cancelButton);
    this.message = h("span", { class: "kls-note", "data-testid": "kls-compare-message", "aria-live": "polite" });

    this.el = h(
      "div",
      { class: "kls-compare-builder" },
      h("label", { class: "kls-field" }, h("span", { text: "Prompts (one per line)" }), this.prompts),
      h("label", { class: "kls-field" }, h("span", { text: "Negative prompts (one per line, optional)" }), this.negatives),
      h(
        "div",
        { class: "kls-settings" },
        h("span", { class: "kls-compare-axis" }, h("span", { text: "Resolutions" }), this.resolutions),
        h("span", { class: "kls-compare-axis" }, h("span", { text: "Durations" }), this.durations),
        h("label", {}, this.tail, "With and without the last frame"),
      ),
      h("div", { class: "kls-note", text: "Nothing ticked or typed on an axis means the form's value." }),
      this.summary,
      this.variants,
      h("div", { class: "kls-row" }, this.run, this.confirmBox, this.message),
    );

    for (const el of [this.prompts, this.negatives]) scope.listen(el, "input", () => this.changed());
    for (const el of [this.resolutions, this.durations, this.tail]) scope.listen(el, "change", () => this.changed());
    scope.listen(this.run, "click", () => void this.onRun());
    scope.listen(this.confirmButton, "click", () => {
      const c = this.confirming;
      this.hideConfirm();
      if (c) void this.send(c, true);
    });
    scope.listen(this.cancelButton, "click", () => {
      this.hideConfirm();
      this.say("", false);
    });
    this.applyRules();
    this.showPlan();
  }

  /** Rebuilds the resolution and duration boxes from the rules, keeping what was ticked. */
  applyRules(): void {
    const rules = this.deps.rules();
    const boxes = (box: HTMLElement, testid: string, values: Array<string | number>, unit: string) => {
      const ticked = new Set(Array.from(box.querySelectorAll<HTMLInputElement>("input:checked")).map((i) => i.value));
      replace(
        box,
        ...values.map((v) => h("label", {}, h("input", { type: "checkbox", "data-testid": testid, value: String(v), checked: ticked.has(String(v)) }), `${v}${unit}`)),
      );
    };
    boxes(this.resolutions, "kls-compare-resolution", rules.resolutions, "");
    boxes(this.durations, "kls-compare-duration", rules.durations, " s");
  }

  axes(): Axes {
    const ticked = (box: HTMLElement) => Array.from(box.querySelectorAll<HTMLInputElement>("input:checked")).map((i) => i.value);
    return {
      prompts: linesOf(this.prompts.value),
      negative_prompts: linesOf(this.negatives.value),
      resolutions: ticked(this.resolutions),
      durations: ticked(this.durations).map(Number).filter((d) => Number.isFinite(d)),
      use_tail: this.tail.checked ? [true, false] : [],
    };
  }

  /** The axes (or the form and pictures they default to) changed: the plan is stale. */
  changed(): void {
    this.rev++;
    if (this.confirming) {
      this.hideConfirm();
      this.say("The grid changed; check the plan and run again.", false);
    }
    this.schedule();
  }

  setActive(on: boolean): void {
    this.active = on;
    if (on && this.plan?.rev !== this.rev) this.schedule();
  }

  private schedule(): void {
    const { scope } = this.deps;
    scope.clearTimeout(this.timer);
    this.timer = null;
    if (!this.active) return;
    this.summary.textContent = "Planning…";
    this.summary.className = "kls-compare-summary kls-note";
    this.timer = scope.setTimeout(() => {
      this.timer = null;
      void this.requestPlan();
    }, PLAN_DEBOUNCE_MS);
  }

  /** Asks Python for the plan of the axes on screen now. Resolves null when it failed or went stale. */
  requestPlan(): Promise<CurrentPlan | null> {
    const rev = this.rev;
    const axes = this.axes();
    return this.deps.rpc
      .request<unknown>({ kind: "compare_plan", axes })
      .then(({ data }): CurrentPlan | null => {
        if (rev !== this.rev) return null;
        const plan = readPlan(data);
        if (!plan) throw new RpcError("Python's plan could not be read.");
        this.plan = { rev, axes, plan };
        this.showPlan();
        return this.plan;
      })
      .catch((e: unknown): null => {
        if (rev === this.rev) {
          this.plan = null;
          this.summary.textContent = `Could not plan the comparison: ${errorText(e)}`;
          this.summary.className = "kls-compare-summary kls-bad-text";
          replace(this.variants);
        }
        return null;
      });
  }

  private showPlan(): void {
    const cur = this.plan;
    if (!cur) {
      this.summary.textContent = this.active ? "Planning…" : "";
      this.summary.className = "kls-compare-summary kls-note";
      replace(this.variants);
      return;
    }
    this.summary.textContent = [planSummary(cur.plan.count, cur.plan.reused), cur.plan.cost_text, cur.plan.over_budget].filter(Boolean).join(" — ");
    this.summary.className = "kls-compare-summary";
    replace(
      this.variants,
      ...cur.plan.variants.map((v) =>
        h(
          "li",
          { "data-testid": "kls-compare-plan-variant", "data-label": v.label },
          h("strong", { class: "kls-compare-label", text: v.label }),
          paramsEl(visibleParams(v.params, cur.plan.differing.length > 0 || cur.plan.variants.length <= 1 ? cur.plan.differing : null)),
        ),
      ),
    );
  }

  private async onRun(): Promise<void> {
    if (this.busy || this.confirming) return;
    this.say("", false);
    let cur = this.plan?.rev === this.rev ? this.plan : null;
    if (!cur) {
      // Never run blind: get the plan of exactly what is on screen first.
      this.deps.scope.clearTimeout(this.timer);
      this.timer = null;
      this.setBusy(true);
      const rev = this.rev;
      cur = await this.requestPlan();
      this.setBusy(false);
      if (!cur) {
        if (rev !== this.rev) this.say("The grid changed while it was being planned; check the plan and run again.", false);
        return;
      }
    }
    if (cur.plan.count <= 0) {
      this.say("The plan has no tasks to run.", true);
      return;
    }
    const above = cur.plan.confirm_above ?? this.threshold();
    // Without a known threshold Python decides: it refuses an unconfirmed run above its limit.
    if (above !== null && cur.plan.count > above) this.showConfirm(cur);
    else await this.send(cur, false);
  }

  private showConfirm(cur: CurrentPlan): void {
    this.confirming = cur;
    this.confirmLine.textContent = confirmText(cur.plan.count, cur.plan.reused);
    this.run.hidden = true;
    this.confirmBox.hidden = false;
    this.confirmButton.focus();
  }

  /** Escape: closes the confirmation. True when it was open. */
  escape(): boolean {
    if (!this.confirming) return false;
    this.hideConfirm();
    this.say("", false);
    this.run.focus();
    return true;
  }

  private hideConfirm(): void {
    this.confirming = null;
    this.confirmBox.hidden = true;
    this.run.hidden = false;
  }

  private async send(cur: CurrentPlan, confirmed: boolean): Promise<void> {
    this.setBusy(true);
    this.say("Sending…", false);
    try {
      await this.deps.rpc.request<{ group_id: string }>({ kind: "compare_run", axes: cur.axes, confirmed });
      this.say(`Comparison started: ${plural(cur.plan.count, "task")}.`, false);
    } catch (e) {
      if (!confirmed && e instanceof RpcError && e.field === "confirmed") {
        this.say("", false);
        this.showConfirm(cur);
      } else this.say(errorText(e), true);
    } finally {
      this.setBusy(false);
    }
  }

  private setBusy(on: boolean): void {
    this.busy = on;
    this.run.disabled = on;
  }

  private say(text: string, bad: boolean): void {
    this.message.textContent = text;
    this.message.className = bad ? "kls-bad-text" : "kls-note";
  }
}
