// One place that remembers everything a view set up, so cleanup can undo all of it: model
// listeners (model.off with the same callback), DOM listeners (one AbortController), timers,
// object URLs, and any extra teardown. A disposed scope refuses new work instead of leaking it.

import type { AnyModel } from "@anywidget/types";
import type { OwnUrls } from "./safe";

type Handler = (...args: any[]) => void;

/** The part of a model a scope needs: subscribing and unsubscribing. */
export type Listenable = Pick<AnyModel, "on" | "off">;

export class Scope implements OwnUrls {
  private readonly abort = new AbortController();
  private readonly modelListeners: Array<[Listenable, string, Handler]> = [];
  private readonly timeouts = new Set<ReturnType<typeof setTimeout>>();
  private readonly intervals = new Set<ReturnType<typeof setInterval>>();
  private readonly urls = new Set<string>();
  private readonly teardowns: Array<() => void> = [];
  private disposed = false;

  /** Pass as `{ signal }` to addEventListener: aborted on dispose. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  on(model: Listenable, event: string, cb: Handler): void {
    if (this.disposed) return;
    model.on(event, cb);
    this.modelListeners.push([model, event, cb]);
  }

  listen<K extends keyof HTMLElementEventMap>(
    target: HTMLElement,
    type: K,
    cb: (ev: HTMLElementEventMap[K]) => void,
  ): void {
    if (this.disposed) return;
    target.addEventListener(type, cb, { signal: this.abort.signal });
  }

  setTimeout(cb: () => void, ms: number): ReturnType<typeof setTimeout> | null {
    if (this.disposed) return null;
    const id = setTimeout(() => {
      this.timeouts.delete(id);
      cb();
    }, ms);
    this.timeouts.add(id);
    return id;
  }

  clearTimeout(id: ReturnType<typeof setTimeout> | null): void {
    if (id === null) return;
    clearTimeout(id);
    this.timeouts.delete(id);
  }

  setInterval(cb: () => void, ms: number): ReturnType<typeof setInterval> | null {
    if (this.disposed) return null;
    const id = setInterval(cb, ms);
    this.intervals.add(id);
    return id;
  }

  clearInterval(id: ReturnType<typeof setInterval> | null): void {
    if (id === null) return;
    clearInterval(id);
    this.intervals.delete(id);
  }

  /** URL.createObjectURL, remembered so it is revoked on dispose (and vouched for by safe*Src). */
  objectUrl(blob: Blob): string | null {
    if (this.disposed) return null;
    const url = URL.createObjectURL(blob);
    this.urls.add(url);
    return url;
  }

  revoke(url: string | null): void {
    if (url === null || !this.urls.delete(url)) return;
    URL.revokeObjectURL(url);
  }

  has(url: string): boolean {
    return this.urls.has(url);
  }

  /** Extra teardown, run in reverse order of registration. */
  add(teardown: () => void): void {
    if (this.disposed) teardown();
    else this.teardowns.push(teardown);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // Teardowns first: they may pause videos that still point at URLs revoked below.
    for (const t of this.teardowns.splice(0).reverse()) {
      try {
        t();
      } catch (e) {
        console.error("kling-studio: cleanup step failed", e);
      }
    }
    for (const [model, event, cb] of this.modelListeners.splice(0)) model.off(event, cb);
    this.abort.abort();
    for (const id of this.timeouts) clearTimeout(id);
    this.timeouts.clear();
    for (const id of this.intervals) clearInterval(id);
    this.intervals.clear();
    for (const url of this.urls) URL.revokeObjectURL(url);
    this.urls.clear();
  }
}
