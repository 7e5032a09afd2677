// Request/response over anywidget custom messages: every request carries a req_id, Python answers
// each with exactly one `reply`. Replies with ok:false and timeouts become rejected promises.
// Every view of a widget receives every message, so ids carry a per-view prefix and a view only
// settles its own requests.

import type { AnyModel } from "@anywidget/types";
import type { Scope } from "./scope";

export interface Reply<T> {
  data: T;
  buffers: DataView[];
}

export class RpcError extends Error {
  readonly field: string | null;
  constructor(message: string, field: string | null = null) {
    super(message);
    this.name = "RpcError";
    this.field = field;
  }
}

interface Pending {
  resolve: (r: Reply<unknown>) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout> | null;
}

export interface RequestOptions {
  timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 60_000;

export type Message = { kind: string; req_id?: string } & Record<string, unknown>;

export class Rpc {
  private readonly pending = new Map<string, Pending>();
  private readonly prefix = Math.random().toString(36).slice(2, 8);
  private counter = 0;

  constructor(
    private readonly model: Pick<AnyModel, "on" | "off" | "send">,
    private readonly scope: Scope,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {
    scope.on(model, "msg:custom", this.onMessage);
    // Requests still open at cleanup are dropped, not rejected: nobody is left to show the error.
    scope.add(() => this.pending.clear());
  }

  /** A fresh req_id, for callers that must know it before sending (video chunks carry it). */
  nextId(): string {
    this.counter += 1;
    return `${this.prefix}-${this.counter}`;
  }

  request<T>(msg: Message, buffers?: ArrayBuffer[], opts: RequestOptions = {}): Promise<Reply<T>> {
    const req_id = msg.req_id ?? this.nextId();
    return new Promise<Reply<T>>((resolve, reject) => {
      if (this.scope.isDisposed) return; // never settles: the view is gone
      const timeout = opts.timeoutMs ?? this.timeoutMs;
      const timer = this.scope.setTimeout(() => {
        this.pending.delete(req_id);
        reject(new RpcError(`No answer from Python after ${Math.round(timeout / 1000)} s (${msg.kind}). Is the kernel busy or stopped?`));
      }, timeout);
      this.pending.set(req_id, { resolve: resolve as (r: Reply<unknown>) => void, reject, timer });
      // anywidget's signature is send(content, callbacks, buffers).
      this.model.send({ ...msg, req_id }, undefined, buffers);
    });
  }

  private readonly onMessage = (msg: unknown, buffers: DataView[] | undefined): void => {
    if (!isReply(msg)) return;
    const p = this.pending.get(msg.req_id);
    if (!p) return; // another view's request, or one that timed out
    this.pending.delete(msg.req_id);
    this.scope.clearTimeout(p.timer);
    if (msg.ok) p.resolve({ data: msg.data, buffers: buffers ?? [] });
    else {
      const err = msg.error ?? { message: "Python answered with an error and no message." };
      p.reject(new RpcError(String(err.message), typeof err.field === "string" ? err.field : null));
    }
  };
}

interface ReplyMsg {
  kind: "reply";
  req_id: string;
  ok: boolean;
  data?: unknown;
  error?: { message: unknown; field?: unknown };
}

function isReply(m: unknown): m is ReplyMsg {
  return typeof m === "object" && m !== null && (m as ReplyMsg).kind === "reply" && typeof (m as ReplyMsg).req_id === "string";
}

/** The error text to show for a failed request. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
