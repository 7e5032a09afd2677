// Shows one task's video. Asks Python `{kind:"video", local_id}`; plays the reply's http(s) URL
// or Jupyter media route (streamed with HTTP Range: seeking reads only what it shows), or, when
// there is none (or it fails to play), the bytes Python sent as `video_chunk` messages, as a
// blob: URL this view made. No other URL scheme ever becomes a source (media-route.ts decides).

import { ChunkAssembler, isChunkMsg } from "./chunks";
import { h } from "./dom";
import { pageBaseUrl, videoSource } from "./media-route";
import { errorText, type Rpc } from "./rpc";
import type { Listenable, Scope } from "./scope";
import type { VideoReply } from "./types";

// Videos can be tens of MB through the kernel's websocket: allow more than the default minute.
const VIDEO_TIMEOUT_MS = 5 * 60_000;

/** Routes `video_chunk` messages to the assembler of the request they answer. One per view. */
export class ChunkRouter {
  private readonly open = new Map<string, ChunkAssembler>();

  constructor(model: Listenable, scope: Scope) {
    scope.on(model, "msg:custom", (msg: unknown, buffers: DataView[] | undefined) => {
      if (!isChunkMsg(msg)) return;
      this.open.get(msg.req_id)?.add(msg, buffers?.[0]);
    });
    scope.add(() => this.open.clear());
  }

  expect(reqId: string): ChunkAssembler {
    const a = new ChunkAssembler();
    this.open.set(reqId, a);
    return a;
  }

  forget(reqId: string): void {
    this.open.delete(reqId);
  }
}

/** At most `n` video loads at once, so twenty finished cards don't pull twenty videos together. */
export class Limiter {
  private running = 0;
  private readonly queue: Array<() => void> = [];
  constructor(private readonly n: number) {}

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.running >= this.n) await new Promise<void>((go) => this.queue.push(go));
    this.running++;
    try {
      return await job();
    } finally {
      this.running--;
      this.queue.shift()?.();
    }
  }
}

export interface VideoDeps {
  rpc: Rpc;
  chunks: ChunkRouter;
  scope: Scope;
  limiter: Limiter;
}

export class VideoPlayer {
  readonly el: HTMLElement;
  readonly video: HTMLVideoElement;
  private readonly status: HTMLElement;
  private blobUrl: string | null = null;
  private triedBytes = false;
  private stopped = false;

  constructor(
    private readonly localId: string,
    private readonly deps: VideoDeps,
  ) {
    // Hidden until it has a source: an empty black player says nothing.
    this.video = h("video", { controls: true, loop: true, playsinline: true, preload: "metadata", hidden: true, "data-testid": "kls-video" });
    this.status = h("div", { class: "kls-video-status", role: "status" });
    this.el = h("div", { class: "kls-video-box" }, this.video, this.status);
    deps.scope.listen(this.video, "error", () => this.onPlaybackError());
    deps.scope.add(() => this.stop());
    void this.load(false);
  }

  /** Pauses, drops the source and revokes the blob URL; the element stays in the DOM, empty. */
  stop(): void {
    this.stopped = true;
    this.detachSource();
  }

  private detachSource(): void {
    try {
      this.video.pause();
    } catch {
      /* not playable yet: nothing to pause */
    }
    if (this.video.hasAttribute("src")) {
      this.video.removeAttribute("src");
      try {
        this.video.load(); // releases the network/decoder resources held for the old source
      } catch {
        /* some DOMs lack load(); the src is gone either way */
      }
    }
    this.video.hidden = true;
    this.deps.scope.revoke(this.blobUrl);
    this.blobUrl = null;
  }

  private say(text: string): void {
    this.status.textContent = text;
  }

  private async load(bytes: boolean): Promise<void> {
    const { rpc, chunks, scope, limiter } = this.deps;
    const reqId = rpc.nextId();
    const assembler = chunks.expect(reqId);
    this.say(bytes ? "Loading the video's bytes from Python…" : "Loading video…");
    try {
      const msg = { kind: "video", req_id: reqId, local_id: this.localId, ...(bytes ? { force_bytes: true } : {}) };
      const reply = await limiter.run(() => rpc.request<VideoReply>(msg, undefined, { timeoutMs: VIDEO_TIMEOUT_MS }));
      if (this.stopped || scope.isDisposed) return;
      const data = reply.data;
      const source = videoSource(data, bytes, { own: scope, baseUrl: pageBaseUrl(), pageHref: location.href });
      if (source.kind === "play") {
        this.setSource(source.src, null);
        return;
      }
      if (source.kind === "need-bytes") {
        this.say(source.why);
        return await this.loadBytesOnce();
      }
      if (!assembler.complete()) {
        this.say(
          bytes && data && (typeof data.url === "string" || typeof data.route === "string")
            ? "The video's URL could not be played, and Python sent no bytes."
            : data && data.chunks > 0
            ? `The video arrived incomplete (${assembler.received} of ${data.chunks} parts).`
            : "No video is available for this task.",
        );
        return;
      }
      const url = scope.objectUrl(assembler.blob());
      if (url !== null) this.setSource(url, url);
    } catch (e) {
      if (!this.stopped) this.say(`Video unavailable: ${errorText(e)}`);
    } finally {
      chunks.forget(reqId);
    }
  }

  private setSource(src: string, blobUrl: string | null): void {
    this.detachSource();
    this.blobUrl = blobUrl;
    this.video.src = src;
    this.video.hidden = false;
    this.say("");
  }

  private async loadBytesOnce(): Promise<void> {
    if (this.triedBytes) {
      this.say("The video could not be played.");
      return;
    }
    this.triedBytes = true;
    await this.load(true);
  }

  private onPlaybackError(): void {
    if (this.stopped || !this.video.getAttribute("src")) return;
    // An expired provider URL (they last 24 h), a store the browser cannot reach, or a page with
    // no media route (the extension is off, Voila on its own) fails here: ask for the bytes.
    if (this.blobUrl === null) void this.loadBytesOnce();
    else this.say("The video could not be played.");
  }
}
