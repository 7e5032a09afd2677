import { describe, expect, it } from "vitest";
import { isHttpUrl, safeImageSrc, safeVideoSrc } from "./safe";

const own = new Set(["blob:http://localhost/1234-abcd"]);

describe("safeVideoSrc", () => {
  it("allows http and https", () => {
    expect(safeVideoSrc("https://cdn.example.com/v.mp4")).toBe("https://cdn.example.com/v.mp4");
    expect(safeVideoSrc("http://127.0.0.1:8000/v.mp4?x=1")).toBe("http://127.0.0.1:8000/v.mp4?x=1");
    expect(safeVideoSrc("HTTPS://CDN.EXAMPLE.COM/v.mp4")).toBe("https://cdn.example.com/v.mp4");
  });

  it("allows only the blob: URLs this view made", () => {
    expect(safeVideoSrc("blob:http://localhost/1234-abcd", own)).toBe("blob:http://localhost/1234-abcd");
    expect(safeVideoSrc("blob:http://localhost/other")).toBeNull();
    expect(safeVideoSrc("blob:http://localhost/other", own)).toBeNull();
  });

  it.each([
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "data:video/mp4;base64,AAAA",
    "data:image/jpeg;base64,AAAA",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://example.com/v.mp4",
    "/relative/path.mp4",
    "//example.com/v.mp4",
    "",
  ])("refuses %j", (url) => {
    expect(safeVideoSrc(url, own)).toBeNull();
  });

  it("refuses non-strings", () => {
    expect(safeVideoSrc(null)).toBeNull();
    expect(safeVideoSrc(42)).toBeNull();
    expect(safeVideoSrc({ toString: () => "https://x" })).toBeNull();
  });
});

describe("safeImageSrc", () => {
  it("allows Python's JPEG thumbs, http(s) and own blobs", () => {
    expect(safeImageSrc("data:image/jpeg;base64,/9j/4AAQSkZJRg==")).toBe("data:image/jpeg;base64,/9j/4AAQSkZJRg==");
    expect(safeImageSrc("https://example.com/a.png")).toBe("https://example.com/a.png");
    expect(safeImageSrc("blob:http://localhost/1234-abcd", own)).toBe("blob:http://localhost/1234-abcd");
  });

  it.each([
    "javascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD4=",
    "data:image/svg+xml;base64,PHN2Zz4=",
    "data:image/jpeg;charset=utf-8;base64,AAAA",
    "data:image/jpeg;base64,AA\"><script>",
    "data:image/png;base64,AAAA",
    "blob:http://localhost/not-ours",
  ])("refuses %j", (url) => {
    expect(safeImageSrc(url, own)).toBeNull();
  });
});

describe("isHttpUrl", () => {
  it("tells fetchable URLs", () => {
    expect(isHttpUrl(" https://example.com/a.jpg ")).toBe(true);
    expect(isHttpUrl("ftp://example.com/a.jpg")).toBe(false);
    expect(isHttpUrl("example.com/a.jpg")).toBe(false);
  });
});
