// A stand-in for anywidget's model: traits with change events (fired synchronously on set, like
// Backbone), listeners that can be counted, a log of sent messages, and a way to deliver custom
// messages (with binary buffers) as Python would. `answer` registers automatic replies by kind.

import type { AnyModel } from "@anywidget/types";
import type { Traits } from "../types";

type Handler = (...args: any[]) => void;

export interface Sent {
  content: Record<string, any>;
  buffers: ArrayBuffer[];
}

/** Reply data, or an `{error}` to answer ok:false; `undefined` means "don't answer". */
export type Answer = (msg: Record<string, any>, buffers: ArrayBuffer[]) => unknown;

export class FakeModel implements AnyModel<Traits> {
  private readonly state: Record<string, unknown>;
  private readonly listeners = new Map<string, Handler[]>();
  private readonly answers = new Map<string, Answer>();
  readonly sent: Sent[] = [];
  saves = 0;
  readonly widget_manager = {
    get_model: () => Promise.reject(new Error("no widget manager in tests")),
  };

  constructor(state: Partial<Traits> = {}) {
    this.state = { history_count: 0, history_rev: 0, error: null, backend: null, rules: null, form: null, pictures: null, ...state };
  }

  get<K extends keyof Traits>(key: K): Traits[K] {
    return this.state[key] as Traits[K];
  }

  set<K extends keyof Traits>(key: K, value: Traits[K]): void {
    const changed = JSON.stringify(this.state[key]) !== JSON.stringify(value);
    this.state[key] = value;
    if (changed) this.emit(`change:${String(key)}`);
  }

  save_changes(): void {
    this.saves++;
  }

  on(event: string, cb: Handler): void {
    const list = this.listeners.get(event) ?? [];
    list.push(cb);
    this.listeners.set(event, list);
  }

  off(event?: string | null, cb?: Handler | null): void {
    if (!event) {
      this.listeners.clear();
      return;
    }
    if (!cb) {
      this.listeners.delete(event);
      return;
    }
    const list = (this.listeners.get(event) ?? []).filter((x) => x !== cb);
    if (list.length) this.listeners.set(event, list);
    else this.listeners.delete(event);
  }

  send(content: any, _callbacks?: any, buffers?: ArrayBuffer[] | ArrayBufferView[]): void {
    const bufs = (buffers ?? []) as ArrayBuffer[];
    this.sent.push({ content, buffers: bufs });
    const answer = this.answers.get(content.kind);
    if (!answer) return;
    // Python answers later, never inside send().
    queueMicrotask(() => {
      const out = answer(content, bufs);
      if (out === undefined) return;
      if (out && typeof out === "object" && "error" in out && Object.keys(out).length === 1) {
        this.deliver({ kind: "reply", req_id: content.req_id, ok: false, error: (out as { error: unknown }).error });
      } else this.deliver({ kind: "reply", req_id: content.req_id, ok: true, data: out });
    });
  }

  /** Auto-answer every request of `kind`. */
  answer(kind: string, fn: Answer): void {
    this.answers.set(kind, fn);
  }

  /** A custom message from Python, with optional binary buffers. */
  deliver(msg: unknown, buffers: ArrayBuffer[] = []): void {
    const views = buffers.map((b) => new DataView(b));
    for (const cb of [...(this.listeners.get("msg:custom") ?? [])]) cb(msg, views);
  }

  reply(req_id: string, data: unknown, buffers: ArrayBuffer[] = []): void {
    this.deliver({ kind: "reply", req_id, ok: true, data }, buffers);
  }

  replyError(req_id: string, message: string, field?: string): void {
    this.deliver({ kind: "reply", req_id, ok: false, error: field ? { message, field } : { message } });
  }

  /** Messages sent of one kind. */
  sentOf(kind: string): Sent[] {
    return this.sent.filter((s) => s.content.kind === kind);
  }

  listenerCount(event?: string): number {
    if (event) return this.listeners.get(event)?.length ?? 0;
    let n = 0;
    for (const l of this.listeners.values()) n += l.length;
    return n;
  }

  private emit(event: string): void {
    for (const cb of [...(this.listeners.get(event) ?? [])]) cb();
  }
}

/** Lets queued microtasks (fake replies, awaited promises) run. */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
