// Tabs between the studio's views (Create, Compare): ARIA tabs, ←/→ between them, one tab stop.

import { h } from "../dom";
import type { Scope } from "../scope";

export interface TabSpec {
  id: string;
  label: string;
  panel: HTMLElement;
}

export class Tabs {
  readonly el: HTMLElement;
  private readonly buttons: HTMLButtonElement[];
  private current: string;
  onChange: (id: string) => void = () => {};

  constructor(
    scope: Scope,
    private readonly specs: TabSpec[],
  ) {
    const uid = Math.random().toString(36).slice(2, 8);
    this.buttons = specs.map((s) => {
      const b = h("button", { type: "button", role: "tab", id: `kls-tab-${s.id}-${uid}`, "aria-controls": `kls-panel-${s.id}-${uid}`, "data-testid": `kls-tab-${s.id}`, text: s.label });
      s.panel.id = `kls-panel-${s.id}-${uid}`;
      s.panel.setAttribute("role", "tabpanel");
      s.panel.setAttribute("aria-labelledby", b.id);
      scope.listen(b, "click", () => this.select(s.id));
      return b;
    });
    this.el = h("div", { class: "kls-tabs", role: "tablist", "aria-label": "Studio views" }, ...this.buttons);
    scope.listen(this.el, "keydown", (e) => {
      if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
      e.preventDefault();
      e.stopPropagation();
      const i = this.specs.findIndex((s) => s.id === this.current);
      const n = this.specs.length;
      const next = this.specs[(i + (e.key === "ArrowRight" ? 1 : n - 1)) % n];
      if (next) {
        this.select(next.id);
        this.buttons[this.specs.indexOf(next)]?.focus();
      }
    });
    this.current = specs[0]?.id ?? "";
    this.show();
  }

  get selected(): string {
    return this.current;
  }

  select(id: string): void {
    if (id === this.current || !this.specs.some((s) => s.id === id)) return;
    this.current = id;
    this.show();
    this.onChange(id);
  }

  private show(): void {
    this.specs.forEach((s, i) => {
      const on = s.id === this.current;
      s.panel.hidden = !on;
      const b = this.buttons[i];
      if (!b) return;
      b.setAttribute("aria-selected", String(on));
      b.tabIndex = on ? 0 : -1;
    });
  }
}
