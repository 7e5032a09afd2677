// The Generate button and, beside it, why it is disabled (the rule sentences) or what Python
// answered (a validation error, or that the task started). The form is flushed before sending,
// so Python generates from exactly what is on screen.

import { h, replace } from "../dom";
import type { FormStore } from "../form-store";
import type { Problem } from "../rules";
import { errorText, type Rpc } from "../rpc";
import type { Scope } from "../scope";
import type { CostEstimate } from "../types";

export class GenerateView {
  readonly el: HTMLElement;
  readonly button: HTMLButtonElement;
  private readonly reasons: HTMLUListElement;
  /** What the form's task would reserve (the `estimate` trait), as text. */
  private readonly estimate: HTMLElement;
  private busy = false;
  private answer: { kind: "error" | "info"; text: string } | null = null;
  /** The task just started (the studio shows it in the player). */
  onStarted: (localId: string) => void = () => {};

  constructor(
    private readonly rpc: Rpc,
    private readonly store: FormStore,
    private readonly problems: () => Problem[],
    scope: Scope,
  ) {
    this.button = h("button", { type: "button", class: "kls-primary kls-generate-button", "data-testid": "kls-generate", text: "Generate", title: "Generate (Ctrl/⌘+Enter)", "aria-keyshortcuts": "Control+Enter Meta+Enter" });
    this.reasons = h("ul", { class: "kls-reasons", "data-testid": "kls-generate-reason", "aria-live": "polite" });
    this.estimate = h("div", { class: "kls-estimate", "data-testid": "kls-estimate", hidden: true });
    this.el = h("div", { class: "kls-generate" }, this.button, h("div", { class: "kls-generate-side" }, this.estimate, this.reasons));
    scope.listen(this.button, "click", () => void this.generate());
    this.refresh();
  }

  showEstimate(e: CostEstimate | null): void {
    this.estimate.textContent = e ? e.text : "";
    this.estimate.hidden = e === null;
    this.estimate.dataset["source"] = e ? e.source : "";
  }

  /** The user changed something: the last answer no longer describes the form. */
  edited(): void {
    this.answer = null;
    this.refresh();
  }

  refresh(): void {
    const problems = this.problems();
    this.button.disabled = this.busy || problems.length > 0;
    const items = problems.map((p) => h("li", { "data-field": p.field, text: p.message }));
    if (this.answer) items.push(h("li", { "data-kind": this.answer.kind, text: this.answer.text }));
    else if (this.busy) items.push(h("li", { "data-kind": "info", text: "Sending…" }));
    replace(this.reasons, ...items);
  }

  async generate(): Promise<void> {
    this.store.flush();
    if (this.busy || this.problems().length > 0) return this.refresh();
    this.busy = true;
    this.answer = null;
    this.refresh();
    try {
      const { data } = await this.rpc.request<{ local_id: string }>({ kind: "generate" });
      this.answer = { kind: "info", text: "Task started: it plays here when it is done." };
      if (data && typeof data.local_id === "string") this.onStarted(data.local_id);
    } catch (e) {
      this.answer = { kind: "error", text: errorText(e) };
    } finally {
      this.busy = false;
      this.refresh();
    }
  }
}
