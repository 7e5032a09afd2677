import { afterEach, describe, expect, it } from "vitest";
import { pageBaseUrl, routeUrl, videoSource, type PageContext } from "./media-route";

const ROUTE = "kling-studio/media/eyJwIjoiL3gubXA0In0.c2ln_-x.mp4";
const PAGE = "http://127.0.0.1:8888/lab/tree/a.ipynb";

function page(over: Partial<PageContext> = {}): PageContext {
  return { own: { has: () => false }, baseUrl: "/", pageHref: PAGE, ...over };
}

describe("pageBaseUrl", () => {
  afterEach(() => document.getElementById("jupyter-config-data")?.remove());

  function config(text: string): void {
    const el = document.createElement("script");
    el.id = "jupyter-config-data";
    el.type = "application/json";
    el.textContent = text;
    document.body.append(el);
  }

  it("reads the Jupyter page config", () => {
    config(JSON.stringify({ baseUrl: "/user/alice/", appName: "JupyterLab" }));
    expect(pageBaseUrl()).toBe("/user/alice/");
  });

  it("is null outside a Jupyter page, or with a config it cannot read", () => {
    expect(pageBaseUrl()).toBeNull();
    config("{not json");
    expect(pageBaseUrl()).toBeNull();
    document.getElementById("jupyter-config-data")?.remove();
    config(JSON.stringify({ baseUrl: 7 }));
    expect(pageBaseUrl()).toBeNull();
  });
});

describe("routeUrl", () => {
  it("resolves against the base URL, also a JupyterHub prefix", () => {
    expect(routeUrl(ROUTE, "/", PAGE)).toBe(`http://127.0.0.1:8888/${ROUTE}`);
    expect(routeUrl(ROUTE, "/user/alice/", "https://hub.example/user/alice/lab")).toBe(`https://hub.example/user/alice/${ROUTE}`);
    expect(routeUrl(ROUTE, "/user/alice", "https://hub.example/user/alice/lab")).toBe(`https://hub.example/user/alice/${ROUTE}`);
  });

  it("refuses anything that is not exactly a media route on the page's own server", () => {
    for (const bad of [
      "https://evil.example/kling-studio/media/a.b.mp4",
      "//evil.example/kling-studio/media/a.b.mp4",
      "/kling-studio/media/a.b.mp4",
      "kling-studio/media/../../api/contents.b.mp4",
      "kling-studio/media/a.b.mp4?x=1",
      "kling-studio/media/a.b.html",
      "javascript:alert(1)",
      "kling-studio/files/a.b.mp4",
      "",
      42,
      null,
    ]) {
      expect(routeUrl(bad, "/", PAGE)).toBeNull();
    }
    expect(routeUrl(ROUTE, "https://evil.example/", PAGE)).toBeNull(); // a base on another origin
    expect(routeUrl(ROUTE, null, PAGE)).toBeNull();
    expect(routeUrl(ROUTE, "/", "vscode-webview://abc/index.html")).toBeNull();
  });
});

describe("videoSource", () => {
  it("plays an http(s) URL first, then a route, else uses the chunks", () => {
    const url = "https://bucket.example/v.mp4?X-Amz-Signature=1";
    expect(videoSource({ url, route: ROUTE, chunks: 0 }, false, page())).toEqual({ kind: "play", src: url });
    expect(videoSource({ url: null, route: ROUTE, chunks: 0 }, false, page())).toEqual({ kind: "play", src: `http://127.0.0.1:8888/${ROUTE}` });
    expect(videoSource({ url: null, route: null, chunks: 3 }, false, page())).toEqual({ kind: "chunks" });
  });

  it("asks for the bytes when the page has no base URL (VS Code, Colab) or the URL is refused", () => {
    expect(videoSource({ url: null, route: ROUTE, chunks: 0 }, false, page({ baseUrl: null })).kind).toBe("need-bytes");
    expect(videoSource({ url: "javascript:alert(1)", route: null, chunks: 0 }, false, page()).kind).toBe("need-bytes");
    expect(videoSource({ url: "data:video/mp4;base64,AAAA", route: null, chunks: 0 }, false, page()).kind).toBe("need-bytes");
  });

  it("never follows a URL in the answer to a bytes request", () => {
    expect(videoSource({ url: "https://x.example/v.mp4", route: ROUTE, chunks: 0 }, true, page())).toEqual({ kind: "chunks" });
    expect(videoSource(null, false, page())).toEqual({ kind: "chunks" });
  });
});
