// The studio's keys, kept from JupyterLab's shortcuts. Lab and Notebook 7 bind plain keys to cell
// commands (Enter edits a cell, arrows move between cells, A/B insert one) and Ctrl+Enter runs the
// cell; Notebook 7 even handles them before the event reaches the widget. Lumino (their shortcut
// engine) skips a key whose target is inside an element with `data-lm-suppress-shortcuts`. So for
// the length of one keydown inside the studio, the root carries that attribute when the key is the
// studio's: any key without Ctrl/Cmd/Alt, and Ctrl/Cmd+Enter. Other shortcuts (Ctrl+S) still work.

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
    if (!(e.target instanceof Node) || !root.contains(e.target) || !isStudioKey(e)) return;
    root.setAttribute(SUPPRESS, "true");
    // After this event has been dispatched everywhere (a microtask would run between listeners).
    scope.setTimeout(() => root.removeAttribute(SUPPRESS), 0);
  };
  // Capture on window: before Lumino's listener on document, whatever phase that one uses.
  window.addEventListener("keydown", onKey, { capture: true, signal: scope.signal });
}
