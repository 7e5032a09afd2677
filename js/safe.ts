// The only gate for URLs that end up in `src`. Anything not on the allow-list becomes null, so a
// hostile server string (javascript:, data:text/html, vbscript:, relative paths) never loads.

/** Object URLs this view created itself (a foreign blob: URL is refused). */
export interface OwnUrls {
  has(url: string): boolean;
}

const NONE: OwnUrls = { has: () => false };

function parse(url: unknown): URL | null {
  if (typeof url !== "string" || url === "") return null;
  try {
    return new URL(url); // no base: relative URLs throw and are refused
  } catch {
    return null;
  }
}

function httpOrOwnBlob(url: unknown, own: OwnUrls): string | null {
  const u = parse(url);
  if (!u) return null;
  if (u.protocol === "http:" || u.protocol === "https:") return u.href;
  if (u.protocol === "blob:" && typeof url === "string" && own.has(url)) return url;
  return null;
}

/** A video source: http(s), or a blob: URL in `own`. */
export function safeVideoSrc(url: unknown, own: OwnUrls = NONE): string | null {
  return httpOrOwnBlob(url, own);
}

// Python's thumbs: exactly a base64 JPEG, nothing else (no svg, no html, no parameters).
const JPEG_DATA_URL = /^data:image\/jpeg;base64,[A-Za-z0-9+/]+={0,2}$/;

/** An image preview source: http(s), a blob: URL in `own`, or a base64 JPEG data URL. */
export function safeImageSrc(url: unknown, own: OwnUrls = NONE): string | null {
  if (typeof url === "string" && JPEG_DATA_URL.test(url)) return url;
  return httpOrOwnBlob(url, own);
}

/** True for http(s) URLs the user may ask Python to fetch. */
export function isHttpUrl(url: string): boolean {
  const u = parse(url.trim());
  return u !== null && (u.protocol === "http:" || u.protocol === "https:");
}

/** A poster: only Python's base64 JPEG data URL (never http, blob or anything else). */
export function safePosterSrc(url: unknown): string | null {
  return typeof url === "string" && JPEG_DATA_URL.test(url) ? url : null;
}
