// The header (name, backend, simulator badge) and the banner for the `error` trait.

import { h, replace } from "../dom";
import type { Scope } from "../scope";
import type { Backend, BackendError, Spending } from "../types";

export const SIMULATOR_TEXT = "Simulator — no API key set; videos are simulated";
export const GATEWAY_TEXT = "Class gateway — your teacher holds the key and sets your budget";

export class HeaderView {
  readonly el: HTMLElement;
  private readonly backend: HTMLElement;
  private readonly spending: HTMLElement;

  constructor() {
    this.backend = h("span", { class: "kls-backend", "data-testid": "kls-backend" });
    this.spending = h("span", { class: "kls-spending", "data-testid": "kls-spending", hidden: true });
    this.el = h("div", { class: "kls-header" }, h("h3", { text: "kling-studio" }), this.backend, this.spending, h("span", { class: "kls-spacer" }));
  }

  /** The spend against the budgets that hold this user (none: hidden). */
  showSpending(s: Spending | null): void {
    this.spending.textContent = s ? s.text : "";
    this.spending.hidden = s === null;
    this.spending.dataset["over"] = String(s?.over === true);
  }

  show(b: Backend | null | undefined): void {
    if (!b || typeof b !== "object") {
      replace(this.backend, "connecting…");
      return;
    }
    const label = typeof b.label === "string" && b.label ? b.label : String(b.base_url ?? "");
    const badge =
      b.mode === "simulator"
        ? h("span", { class: "kls-badge", "data-testid": "kls-simulator", text: SIMULATOR_TEXT })
        : b.mode === "gateway"
          ? h("span", { class: "kls-badge", "data-testid": "kls-gateway", text: GATEWAY_TEXT })
          : null;
    this.backend.dataset["mode"] = String(b.mode);
    replace(this.backend, label, badge ? " " : null, badge);
  }
}

/** Backend errors, until dismissed; a newer error (another `at`) shows again. */
export class ErrorBanner {
  readonly el: HTMLElement;
  private readonly text: HTMLElement;
  private dismissedAt: number | null = null;
  private current: BackendError | null = null;

  constructor(scope: Scope) {
    this.text = h("div", { class: "kls-banner-text" });
    const close = h("button", { type: "button", "data-testid": "kls-error-dismiss", "aria-label": "Dismiss the error", text: "Dismiss" });
    this.el = h("div", { class: "kls-banner", role: "alert", "data-testid": "kls-error", hidden: true }, this.text, close);
    scope.listen(close, "click", () => this.dismiss());
  }

  /** Hides the error until a newer one. True when it was showing. */
  dismiss(): boolean {
    if (this.el.hidden) return false;
    this.dismissedAt = this.current?.at ?? null;
    this.el.hidden = true;
    return true;
  }

  show(err: BackendError | null | undefined): void {
    this.current = err && typeof err === "object" ? err : null;
    const visible = this.current !== null && this.current.at !== this.dismissedAt;
    this.text.textContent = this.current ? String(this.current.message) : "";
    this.el.hidden = !visible;
  }
}
