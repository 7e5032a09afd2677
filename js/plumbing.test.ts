import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ChunkAssembler } from "./chunks";
import { Coalescer } from "./coalesce";
import { Rpc, RpcError } from "./rpc";
import { Scope } from "./scope";
import { FakeModel, settle } from "./test/fake-model";

describe("Rpc", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("numbers requests and resolves with the reply's data and buffers", async () => {
    const model = new FakeModel();
    const scope = new Scope();
    const rpc = new Rpc(model, scope);
    const p = rpc.request<{ n: number }>({ kind: "history", offset: 0 }, [new ArrayBuffer(3)]);
    const sent = model.sent[0]!;
    expect(sent.content).toMatchObject({ kind: "history", offset: 0 });
    expect(typeof sent.content["req_id"]).toBe("string");
    expect(sent.buffers[0]?.byteLength).toBe(3);
    model.reply(sent.content["req_id"], { n: 7 }, [new Uint8Array([1, 2]).buffer]);
    const r = await p;
    expect(r.data).toEqual({ n: 7 });
    expect(r.buffers[0]?.getUint8(1)).toBe(2);
    // Two requests never share an id.
    void rpc.request({ kind: "a" });
    void rpc.request({ kind: "b" });
    expect(new Set(model.sent.map((s) => s.content["req_id"])).size).toBe(3);
  });

  it("rejects error replies with the message and field", async () => {
    const model = new FakeModel();
    const rpc = new Rpc(model, new Scope());
    const p = rpc.request({ kind: "generate" });
    model.replyError(model.sent[0]!.content["req_id"], "prompt is required", "prompt");
    await expect(p).rejects.toMatchObject({ name: "RpcError", message: "prompt is required", field: "prompt" });
  });

  it("times out, and ignores a reply that comes after", async () => {
    const model = new FakeModel();
    const rpc = new Rpc(model, new Scope(), 1000);
    const p = rpc.request({ kind: "snapshot" });
    const caught = p.catch((e: unknown) => e);
    vi.advanceTimersByTime(1001);
    const e = await caught;
    expect(e).toBeInstanceOf(RpcError);
    expect((e as Error).message).toMatch(/No answer from Python after 1 s/);
    model.reply(model.sent[0]!.content["req_id"], {}); // no throw, no effect
  });

  it("ignores replies to other views' requests", async () => {
    const model = new FakeModel();
    const a = new Rpc(model, new Scope());
    const b = new Rpc(model, new Scope());
    let settledA = false;
    void a.request({ kind: "x" }).then(() => (settledA = true));
    const pb = b.request({ kind: "x" });
    model.reply(model.sent[1]!.content["req_id"], "for b");
    expect((await pb).data).toBe("for b");
    await settle();
    expect(settledA).toBe(false);
  });

  it("removes its listener and timers on dispose", () => {
    const model = new FakeModel();
    const scope = new Scope();
    const rpc = new Rpc(model, scope);
    void rpc.request({ kind: "snapshot" });
    expect(model.listenerCount()).toBe(1);
    expect(vi.getTimerCount()).toBe(1);
    scope.dispose();
    expect(model.listenerCount()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("Coalescer", () => {
  it("runs at most one job at a time plus one pending", async () => {
    const releases: Array<() => void> = [];
    let runs = 0;
    const c = new Coalescer(() => {
      runs++;
      return new Promise<void>((r) => releases.push(r));
    });
    for (let i = 0; i < 20; i++) c.trigger();
    expect(runs).toBe(1);
    releases.shift()!();
    await settle();
    expect(runs).toBe(2);
    releases.shift()!();
    await settle();
    expect(runs).toBe(2);
    expect(c.busy).toBe(false);
  });

  it("keeps going after a failed run", async () => {
    let runs = 0;
    const c = new Coalescer(async () => {
      runs++;
      throw new Error("boom");
    });
    c.trigger();
    await settle();
    c.trigger();
    await settle();
    expect(runs).toBe(2);
  });
});

describe("ChunkAssembler", () => {
  const msg = (seq: number, total: number) => ({ kind: "video_chunk" as const, req_id: "r", seq, total, mime: "video/mp4" });
  const bytes = (...b: number[]) => new DataView(new Uint8Array(b).buffer);

  it("builds the blob in seq order whatever the arrival order", async () => {
    const a = new ChunkAssembler();
    expect(a.add(msg(2, 3), bytes(5, 6))).toBeNull();
    expect(a.add(msg(0, 3), bytes(1, 2))).toBeNull();
    const blob = a.add(msg(1, 3), bytes(3, 4));
    expect(blob).not.toBeNull();
    expect(blob!.type).toBe("video/mp4");
    expect([...new Uint8Array(await blob!.arrayBuffer())]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("ignores chunks out of range or without bytes, and neutralises odd mime types", () => {
    const a = new ChunkAssembler();
    expect(a.add(msg(5, 2), bytes(1))).toBeNull();
    expect(a.add(msg(0, 1), undefined)).toBeNull();
    const blob = a.add({ ...msg(0, 1), mime: "text/html" }, bytes(1));
    expect(blob?.type).toBe("application/octet-stream");
  });
});

describe("Scope", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("undoes listeners, timers and object URLs, and refuses new ones after dispose", () => {
    const created: string[] = [];
    const revoked: string[] = [];
    const create = vi.spyOn(URL, "createObjectURL").mockImplementation(() => {
      const u = `blob:test/${created.length}`;
      created.push(u);
      return u;
    });
    const revoke = vi.spyOn(URL, "revokeObjectURL").mockImplementation((u) => revoked.push(u));
    const scope = new Scope();
    const model = new FakeModel();
    const btn = document.createElement("button");
    const clicks = vi.fn();
    scope.on(model, "change:form", () => {});
    scope.listen(btn, "click", clicks);
    const fired = vi.fn();
    scope.setTimeout(fired, 10);
    scope.setInterval(fired, 10);
    const url = scope.objectUrl(new Blob(["x"]))!;
    expect(scope.has(url)).toBe(true);
    scope.dispose();
    btn.click();
    vi.advanceTimersByTime(100);
    expect(clicks).not.toHaveBeenCalled();
    expect(fired).not.toHaveBeenCalled();
    expect(model.listenerCount()).toBe(0);
    expect(revoked).toEqual(created);
    expect(scope.objectUrl(new Blob(["y"]))).toBeNull();
    expect(scope.setTimeout(fired, 1)).toBeNull();
    create.mockRestore();
    revoke.mockRestore();
  });
});
