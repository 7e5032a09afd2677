// What a picture really is, read from its bytes (the magic number and the header), not from its
// file name. Pure: no DOM, so it is tested with plain byte arrays.

export type SniffedFormat = "JPEG" | "PNG" | "GIF" | "WEBP" | "BMP" | "unknown";

export interface ImageHeader {
  format: SniffedFormat;
  /** null when the header is missing or cut short. */
  width: number | null;
  height: number | null;
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(b: Uint8Array, magic: readonly number[]): boolean {
  if (b.length < magic.length) return false;
  return magic.every((v, i) => b[i] === v);
}

export function sniffFormat(b: Uint8Array): SniffedFormat {
  if (startsWith(b, PNG_MAGIC)) return "PNG";
  if (startsWith(b, [0xff, 0xd8, 0xff])) return "JPEG";
  if (startsWith(b, [0x47, 0x49, 0x46, 0x38])) return "GIF";
  if (startsWith(b, [0x52, 0x49, 0x46, 0x46]) && b.length >= 12 && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) {
    return "WEBP";
  }
  if (startsWith(b, [0x42, 0x4d])) return "BMP";
  return "unknown";
}

/** Format and pixel size. Width/height are read for PNG and JPEG only (the formats we accept). */
export function readImageHeader(buf: ArrayBuffer | Uint8Array): ImageHeader {
  const b = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  const format = sniffFormat(b);
  if (format === "PNG") return { format, ...pngSize(b) };
  if (format === "JPEG") return { format, ...jpegSize(b) };
  return { format, width: null, height: null };
}

function dims(width: number | null, height: number | null): { width: number | null; height: number | null } {
  return { width, height };
}

function pngSize(b: Uint8Array): { width: number | null; height: number | null } {
  // Signature (8) + IHDR length (4) + "IHDR" (4), then width and height as big-endian uint32.
  if (b.length < 24) return dims(null, null);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (v.getUint32(12) !== 0x49484452) return dims(null, null);
  return dims(v.getUint32(16), v.getUint32(20));
}

// Start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but don't.
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function jpegSize(b: Uint8Array): { width: number | null; height: number | null } {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return dims(null, null); // lost sync: not a well-formed JPEG
    const marker = b[i + 1] ?? 0;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    // Markers without a length field.
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return dims(null, null); // end / scan before any frame
    const len = v.getUint16(i + 2);
    if (isStartOfFrame(marker)) {
      if (i + 9 > b.length) return dims(null, null);
      return dims(v.getUint16(i + 7), v.getUint16(i + 5));
    }
    i += 2 + len;
  }
  return dims(null, null);
}
