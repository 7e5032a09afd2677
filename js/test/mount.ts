// Mounts a studio view on a FakeModel, with Python's usual answers and object URLs recorded.

import { vi } from "vitest";
import { mountStudio } from "../studio";
import type { Traits } from "../types";
import { FakeModel } from "./fake-model";
import { form, RULES } from "./fixtures";

export interface Mounted {
  model: FakeModel;
  el: HTMLElement;
  cleanup: () => void;
  q: <T extends Element = HTMLElement>(testid: string) => T;
  qa: <T extends Element = HTMLElement>(testid: string) => T[];
  urls: { created: Array<{ url: string; blob: Blob }>; revoked: string[] };
}

export function mount(state: Partial<Traits> = {}, opts: { pageSize?: number; before?: (model: FakeModel) => void } = {}): Mounted {
  const model = new FakeModel({
    backend: { mode: "simulator", base_url: "http://127.0.0.1:8765", label: "Simulator at 127.0.0.1:8765" },
    rules: RULES,
    form: form(),
    pictures: { image: null, image_tail: null },
    ...state,
  });
  model.answer("snapshot", () => ({ cards: [] }));
  model.answer("history", () => ({ rows: [], total: 0 }));
  opts.before?.(model);
  const urls: Mounted["urls"] = { created: [], revoked: [] };
  vi.spyOn(URL, "createObjectURL").mockImplementation((obj) => {
    const url = `blob:http://localhost/test-${urls.created.length}`;
    urls.created.push({ url, blob: obj as Blob });
    return url;
  });
  vi.spyOn(URL, "revokeObjectURL").mockImplementation((url) => {
    urls.revoked.push(url);
  });
  const el = document.createElement("div");
  document.body.appendChild(el);
  const cleanup = mountStudio(model, el, opts.pageSize ? { pageSize: opts.pageSize } : {});
  const q = <T extends Element = HTMLElement>(id: string): T => {
    const found = el.querySelector<T>(`[data-testid="${id}"]`);
    if (!found) throw new Error(`no element with data-testid=${id}`);
    return found;
  };
  const qa = <T extends Element = HTMLElement>(id: string): T[] => Array.from(el.querySelectorAll<T>(`[data-testid="${id}"]`));
  return { model, el, cleanup, q, qa, urls };
}

export function type(input: HTMLInputElement | HTMLTextAreaElement, value: string): void {
  input.value = value;
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

export function choose(select: HTMLSelectElement | HTMLInputElement, value?: string | boolean): void {
  if (typeof value === "boolean") (select as HTMLInputElement).checked = value;
  else if (value !== undefined) select.value = value;
  select.dispatchEvent(new Event("change", { bubbles: true }));
}

/** Sets the files of a file input and fires change, as a browser does after the dialog. */
export function pickFile(input: HTMLInputElement, file: File): void {
  Object.defineProperty(input, "files", { value: [file], configurable: true });
  input.dispatchEvent(new Event("change", { bubbles: true }));
}
