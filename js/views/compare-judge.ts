// The judging controls of one comparison cell: the viewer's own rating, winner mark and note
// (editable; each change is one `rate` message, which Python stores as this user's only), and
// everyone's: the mean and count, with each rater's judgement in a tooltip and an expandable list.
// All of it text: user names and notes come from other people.

import { h, replace } from "../dom";
import { errorText, type Rpc } from "../rpc";
import type { Scope } from "../scope";
import type { Variant } from "../types";
import { raterLines, ratingSummaryText } from "./compare-model";

type Change = { rating?: number | null; winner?: boolean; note?: string };

export class Judge {
  readonly el: HTMLElement;
  private readonly rating: HTMLSelectElement;
  private readonly winner: HTMLInputElement;
  private readonly note: HTMLInputElement;
  private readonly rateMsg = h("div", { class: "kls-bad-text", "data-testid": "kls-compare-rate-error" });
  private readonly summary = h("summary", { "data-testid": "kls-compare-everyone" });
  private readonly raters = h("ul", { class: "kls-compare-raters", "data-testid": "kls-compare-raters" });
  private noteSent = "";
  private localId: string | null = null;

  constructor(
    scope: Scope,
    private readonly rpc: Rpc,
  ) {
    this.rating = h(
      "select",
      { "data-testid": "kls-compare-rating", "aria-label": "Your rating, 1 to 5" },
      h("option", { value: "", text: "No rating" }),
      ...[1, 2, 3, 4, 5].map((n) => h("option", { value: String(n), text: `${"★".repeat(n)}${"☆".repeat(5 - n)} ${n}` })),
    );
    this.winner = h("input", { type: "checkbox", "data-testid": "kls-compare-winner" });
    this.note = h("input", { type: "text", class: "kls-compare-note", "data-testid": "kls-compare-note", placeholder: "Note", "aria-label": "Your note" });
    this.el = h(
      "div",
      { class: "kls-compare-judging" },
      h("div", { class: "kls-row kls-compare-judge" }, this.rating, h("label", {}, this.winner, "Winner"), this.note),
      h("details", { class: "kls-compare-everyone" }, this.summary, this.raters),
      this.rateMsg,
    );
    scope.listen(this.rating, "change", () => {
      // "No rating" sends null: Python removes the rating.
      const n = this.rating.value === "" ? null : Number(this.rating.value);
      if (n === null || (Number.isInteger(n) && n >= 1 && n <= 5)) this.rate({ rating: n });
    });
    scope.listen(this.winner, "change", () => this.rate({ winner: this.winner.checked }));
    const saveNote = () => {
      if (this.note.value === this.noteSent) return;
      this.noteSent = this.note.value;
      this.rate({ note: this.note.value });
    };
    scope.listen(this.note, "change", saveNote);
    scope.listen(this.note, "blur", saveNote);
  }

  update(v: Variant): void {
    this.localId = v.local_id;
    const judgeable = v.local_id !== null;
    this.rating.disabled = !judgeable;
    this.winner.disabled = !judgeable;
    this.note.disabled = !judgeable;
    const r = v.rating === null ? "" : String(v.rating);
    if (this.rating.value !== r) this.rating.value = r;
    this.winner.checked = v.winner;
    // Never overwrite a note being typed.
    if (this.note.ownerDocument.activeElement !== this.note) {
      if (this.note.value !== v.note) this.note.value = v.note;
      this.noteSent = v.note;
    }
    const lines = raterLines(v.raters);
    this.summary.textContent = ratingSummaryText(v);
    this.summary.title = lines.join("\n"); // a tooltip is text too
    replace(this.raters, ...lines.map((line) => h("li", { text: line })));
  }

  private rate(change: Change): void {
    const id = this.localId;
    if (id === null) return;
    this.rateMsg.textContent = "";
    this.rpc.request({ kind: "rate", local_id: id, ...change }).catch((e: unknown) => {
      this.rateMsg.textContent = `Not saved: ${errorText(e)}`;
    });
  }
}
