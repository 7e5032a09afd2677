// The `form` trait, two-way. Edits update a local copy at once (so counters and rules react on every
// key) and reach the trait after a short pause in typing; `flush()` writes immediately (Generate
// calls it first). A trait change that isn't our own echo (remix, load_settings, studio.form = ...,
// another view) replaces the local copy and drops the pending write.

import type { AnyModel } from "@anywidget/types";
import { readForm } from "./rules";
import type { Scope } from "./scope";
import type { Form, Rules, Traits } from "./types";

export const TYPING_DEBOUNCE_MS = 150;

type Listener = (form: Form, external: boolean) => void;

export class FormStore {
  private current: Form;
  private lastWritten: string;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly listeners: Listener[] = [];

  constructor(
    private readonly model: AnyModel<Traits>,
    private readonly scope: Scope,
    private readonly rules: () => Rules,
  ) {
    this.current = readForm(model.get("form"), rules());
    this.lastWritten = JSON.stringify(model.get("form") ?? null);
    scope.on(model, "change:form", this.onTrait);
  }

  get form(): Form {
    return this.current;
  }

  subscribe(fn: Listener): void {
    this.listeners.push(fn);
  }

  /** Applies an edit. `typing` edits are written after a pause; others right away. */
  update(patch: Partial<Form>, typing = false): void {
    this.current = { ...this.current, ...patch };
    this.emit(false);
    if (typing) {
      this.scope.clearTimeout(this.timer);
      this.timer = this.scope.setTimeout(() => this.flush(), TYPING_DEBOUNCE_MS);
    } else this.flush();
  }

  /** Writes the local copy to the trait now, if it differs from what the trait holds. */
  flush(): void {
    this.scope.clearTimeout(this.timer);
    this.timer = null;
    if (this.scope.isDisposed) return;
    const json = JSON.stringify(this.current);
    if (json === this.lastWritten) return;
    this.lastWritten = json;
    this.model.set("form", { ...this.current, voice_ids: [...this.current.voice_ids], multi_prompt: this.current.multi_prompt.map((s) => ({ ...s })) });
    this.model.save_changes();
  }

  /** A trait change: adopt it unless it is the echo of our own last write. */
  private readonly onTrait = (): void => {
    const raw = this.model.get("form");
    const json = JSON.stringify(raw ?? null);
    if (json === this.lastWritten) return; // our own write coming back
    this.lastWritten = json;
    this.scope.clearTimeout(this.timer);
    this.timer = null;
    this.current = readForm(raw, this.rules());
    this.emit(true);
  };

  private emit(external: boolean): void {
    for (const fn of this.listeners) fn(this.current, external);
  }
}
