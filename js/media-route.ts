// Where a video reply says to play from, decided here so the player only follows the answer.
// Python offers, best first, an absolute http(s) URL (a signed store URL, or FoxAPI's), a route
// of the Jupyter server's media extension relative to the page's base URL, or the bytes as
// `video_chunk` messages. A route is followed only where the page has a Jupyter base URL (Lab,
// Notebook 7, JupyterHub, Voila); elsewhere (VS Code, Colab) the player asks for the bytes.

import { type OwnUrls, safeVideoSrc } from "./safe";
import type { VideoReply } from "./types";

// Exactly what kling_studio.serverext signs: one path segment, no scheme, no "..", no query.
const ROUTE = /^kling-studio\/media\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.(mp4|jpe?g)$/;

/** The Jupyter page's base URL (e.g. "/" or "/user/alice/") from its page config; null when the
 *  page is no Jupyter server's (VS Code, Colab) or the config is unreadable. */
export function pageBaseUrl(doc: Document = document): string | null {
  const text = doc.getElementById("jupyter-config-data")?.textContent;
  if (!text) return null;
  try {
    const base = (JSON.parse(text) as { baseUrl?: unknown } | null)?.baseUrl;
    return typeof base === "string" && base !== "" ? base : null;
  } catch {
    return null;
  }
}

/** The absolute URL of a media route on this page's own server, or null when `route` is not
 *  exactly one, or there is no base URL, or the result would leave the page's origin. */
export function routeUrl(route: unknown, baseUrl: string | null, pageHref: string): string | null {
  if (typeof route !== "string" || !ROUTE.test(route) || baseUrl === null) return null;
  try {
    const page = new URL(pageHref);
    if (page.protocol !== "http:" && page.protocol !== "https:") return null;
    const base = new URL(baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`, page);
    const url = new URL(route, base);
    return base.origin === page.origin && url.origin === page.origin ? url.href : null;
  } catch {
    return null;
  }
}

// Posters by route: asked for while the page has a base URL and no poster route has failed on
// it; the first that fails (no extension behind this page) turns them off for the page, and the
// views that listed posters by route ask again for the bytes.
let posterRoutesBroken = false;
const posterRouteListeners = new Set<() => void>();

/** Whether to ask Python for posters by route (`poster_routes` in a history request). */
export function posterRoutesUsable(doc: Document = document): boolean {
  return !posterRoutesBroken && pageBaseUrl(doc) !== null;
}

/** The URL to load a poster's route from, or null (not a route, or routes failed here). */
export function posterRouteUrl(route: unknown, doc: Document = document): string | null {
  return posterRoutesBroken ? null : routeUrl(route, pageBaseUrl(doc), doc.location?.href ?? "");
}

/** A poster route failed to load: no more routes on this page; listeners refetch as bytes. */
export function posterRouteFailed(): void {
  if (posterRoutesBroken) return;
  posterRoutesBroken = true;
  for (const listener of [...posterRouteListeners]) listener();
}

/** Calls `listener` once poster routes fail on this page; returns the unsubscribe. */
export function onPosterRoutesFailed(listener: () => void): () => void {
  posterRouteListeners.add(listener);
  return () => posterRouteListeners.delete(listener);
}

/** For tests: poster routes usable again. */
export function resetPosterRoutes(): void {
  posterRoutesBroken = false;
}

export interface PageContext {
  own: OwnUrls; // blob: URLs this view made
  baseUrl: string | null; // pageBaseUrl()
  pageHref: string; // location.href
}

export type VideoSource =
  | { kind: "play"; src: string } // a URL to set as the <video>'s src
  | { kind: "need-bytes"; why: string } // nothing playable offered: ask again with force_bytes
  | { kind: "chunks" }; // the bytes came (or failed to come) as video_chunk messages

/** What to do with a video reply. `bytesAsked`: this reply answers a force_bytes request, so
 *  any URL in it is ignored (it already failed). */
export function videoSource(data: Partial<VideoReply> | null | undefined, bytesAsked: boolean, page: PageContext): VideoSource {
  if (bytesAsked || !data) return { kind: "chunks" };
  if (typeof data.url === "string") {
    const src = safeVideoSrc(data.url, page.own);
    return src !== null ? { kind: "play", src } : { kind: "need-bytes", why: "The video's URL is not http(s); asking Python for the bytes instead…" };
  }
  if (typeof data.route === "string") {
    const src = routeUrl(data.route, page.baseUrl, page.pageHref);
    return src !== null
      ? { kind: "play", src }
      : { kind: "need-bytes", why: "This page cannot reach the Jupyter server's video route; asking Python for the bytes…" };
  }
  return { kind: "chunks" };
}
