// Reassembles a video sent as `video_chunk` messages (each < 8 MB, because Tornado drops websocket
// messages over 10 MB). Chunks may arrive in any order; the blob is built in `seq` order
// once all `total` have arrived.

export interface ChunkMsg {
  kind: "video_chunk";
  req_id: string;
  seq: number;
  total: number;
  mime: string;
}

export function isChunkMsg(m: unknown): m is ChunkMsg {
  if (typeof m !== "object" || m === null) return false;
  const c = m as ChunkMsg;
  return c.kind === "video_chunk" && typeof c.req_id === "string" && Number.isInteger(c.seq) && Number.isInteger(c.total);
}

// Only video types become the blob's type; anything else is stored as a neutral byte stream.
function safeMime(mime: unknown): string {
  return typeof mime === "string" && /^video\/[a-z0-9.+-]+$/i.test(mime) ? mime : "application/octet-stream";
}

export class ChunkAssembler {
  private readonly parts = new Map<number, DataView>();
  private total: number | null = null;
  private mime = "video/mp4";

  /** Adds one chunk. Returns the complete blob when this was the last missing one, else null. */
  add(msg: ChunkMsg, buffer: DataView | undefined): Blob | null {
    if (!buffer || msg.total <= 0 || msg.seq < 0 || msg.seq >= msg.total) return null;
    this.total = msg.total;
    this.mime = safeMime(msg.mime);
    this.parts.set(msg.seq, buffer);
    return this.complete() ? this.blob() : null;
  }

  get received(): number {
    return this.parts.size;
  }

  complete(): boolean {
    return this.total !== null && this.parts.size === this.total;
  }

  blob(): Blob {
    const ordered: DataView[] = [];
    for (let i = 0; i < (this.total ?? 0); i++) {
      const p = this.parts.get(i);
      if (p) ordered.push(p);
    }
    return new Blob(ordered as BlobPart[], { type: this.mime });
  }
}
