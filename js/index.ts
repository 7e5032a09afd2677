// anywidget entry point (AFM): one studio view per render, undone by the returned cleanup.

import type { RenderProps } from "@anywidget/types";
import { mountStudio } from "./studio";
import type { Traits } from "./types";

function render({ model, el, signal }: RenderProps<Traits>): () => void {
  const cleanup = mountStudio(model, el);
  // Newer anywidget versions also abort a signal when the view goes; older ones pass none.
  if (!signal) return cleanup;
  const onAbort = (): void => cleanup();
  signal.addEventListener("abort", onAbort, { once: true });
  return () => {
    signal.removeEventListener("abort", onAbort);
    cleanup();
  };
}

export default { render };
