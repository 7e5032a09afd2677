import { describe, expect, it } from "vitest";
import { readImageHeader, sniffFormat } from "./image-bytes";
import { pictureChecks } from "./rules";
import { GIF_BYTES, jpegBytes, pngBytes, RULES, TEXT_BYTES } from "./test/fixtures";

describe("picture checks from bytes", () => {
  it("reads a PNG's magic and size", () => {
    expect(readImageHeader(pngBytes(1280, 720))).toEqual({ format: "PNG", width: 1280, height: 720 });
  });

  it("reads a JPEG's magic and size from its SOF segment, past APP segments", () => {
    expect(readImageHeader(jpegBytes(640, 480))).toEqual({ format: "JPEG", width: 640, height: 480 });
    expect(readImageHeader(jpegBytes(300, 750).buffer as ArrayBuffer)).toEqual({ format: "JPEG", width: 300, height: 750 });
  });

  it("rejects a GIF and a text file whatever they are called", () => {
    expect(sniffFormat(GIF_BYTES)).toBe("GIF");
    expect(sniffFormat(TEXT_BYTES)).toBe("unknown");
    const gif = readImageHeader(GIF_BYTES);
    expect(pictureChecks({ ...gif, size: GIF_BYTES.length }, RULES)[0]).toMatchObject({ id: "format", ok: false });
    const text = readImageHeader(TEXT_BYTES);
    expect(pictureChecks({ ...text, size: TEXT_BYTES.length }, RULES).filter((c) => !c.ok).map((c) => c.id)).toEqual(["format", "side"]);
  });

  it("copes with truncated headers", () => {
    expect(readImageHeader(pngBytes(500, 500).slice(0, 20))).toEqual({ format: "PNG", width: null, height: null });
    expect(readImageHeader(jpegBytes(500, 500).slice(0, 10))).toEqual({ format: "JPEG", width: null, height: null });
    expect(readImageHeader(new Uint8Array())).toEqual({ format: "unknown", width: null, height: null });
  });

  it("passes a small PNG of the right shape only when big enough", () => {
    const ok = readImageHeader(pngBytes(300, 300));
    expect(pictureChecks({ ...ok, size: 33 }, RULES).every((c) => c.ok)).toBe(true);
    const small = readImageHeader(pngBytes(299, 600));
    expect(pictureChecks({ ...small, size: 33 }, RULES).filter((c) => !c.ok).map((c) => c.id)).toEqual(["side"]);
  });
});
