// The studio's keys, kept from JupyterLab's shortcuts. Lab and Notebook 7 bind plain keys to cell
// commands (Enter edits a cell, arrows move between cells, A/B insert one) and Ctrl+Enter runs the
// cell; Notebook 7 even handles them before the event reaches the widget. Lumino (their shortcut
// engine) looks for a binding's selector from the key's target upwards, and stops at an element
// with `data-lm-suppress-shortcuts` — so the target itself must carry it (a binding such as
// `.jp-Notebook.jp-mod-commandMode :focus` matches the focused button before any ancestor is
// reached). For the length of one keydown inside the studio, the target carries that attribute
// when the key is the studio's: any key without Ctrl/Cmd/Alt, and Ctrl/Cmd+Enter. Other shortcuts
// (Ctrl+S) still reach JupyterLab.

import type { Scope } from "./scope";

type Keys = Pick<KeyboardEvent, "key" | "ctrlKey" | "metaKey" | "altKey">;

/** Ctrl+Enter, or ⌘+Enter on a Mac. */
export function isGenerateKey(e: Keys): boolean {
  return e.key === "Enter" && (e.ctrlKey || e.metaKey) && !e.altKey;
}

/** Whether a key pressed inside the studio is the studio's, not JupyterLab's. */
export function isStudioKey(e: Keys): boolean {
  return isGenerateKey(e) || (!e.ctrlKey && !e.metaKey && !e.altKey);
}

export const SUPPRESS = "data-lm-suppress-shortcuts";

export function keepKeysFromJupyter(root: HTMLElement, scope: Scope): void {
  if (typeof window === "undefined") return;
  const onKey = (e: KeyboardEvent): void => {
    const target = e.target;
    if (!(target instanceof Element) || !root.contains(target) || !isStudioKey(e) || target.hasAttribute(SUPPRESS)) return;
    target.setAttribute(SUPPRESS, "true");
    // After this event has been dispatched everywhere (a microtask would run between listeners).
    scope.setTimeout(() => target.removeAttribute(SUPPRESS), 0);
  };
  // Capture on window: before Lumino's listener on document, whatever phase that one uses.
  window.addEventListener("keydown", onKey, { capture: true, signal: scope.signal });
}
