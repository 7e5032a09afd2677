// One picture slot (first or last frame): browse, drag and drop, or a URL. A local file is checked
// here first (magic bytes, pixel size, bytes, aspect) and shown from a blob: URL; if it can be
// sent, its bytes go to Python as a binary buffer. Once Python answers, the `pictures` trait is
// what the slot shows (with Python's own problems).

import type { AnyModel } from "@anywidget/types";
import { h, replace } from "../dom";
import { bytes } from "../format";
import { readImageHeader } from "../image-bytes";
import { pictureChecks, type Check, type SlotState } from "../rules";
import { errorText, type Rpc } from "../rpc";
import { isHttpUrl, safeImageSrc } from "../safe";
import type { Scope } from "../scope";
import type { PictureInfo, Rules, Slot, Traits } from "../types";

// Enough for the JPEG header even behind a large EXIF block (APP1 is at most 64 KB).
const HEADER_BYTES = 256 * 1024;

const TEXT: Record<Slot, { title: string; testid: string; url: string }> = {
  image: { title: "First frame (required)", testid: "kls-image", url: "kls-image-url" },
  image_tail: { title: "Last frame (optional)", testid: "kls-tail", url: "kls-tail-url" },
};

interface Local {
  name: string;
  blobUrl: string | null;
  checks: Check[];
  facts: string;
  phase: "busy" | "rejected" | "error" | "done";
  message: string;
  /** Identifies the PictureInfo Python answered for this upload, to keep showing our own preview. */
  infoKey: string | null;
}

export interface SlotDeps {
  model: AnyModel<Traits>;
  scope: Scope;
  rpc: Rpc;
  rules: () => Rules;
  onState: () => void;
}

export function pictureOf(model: AnyModel<Traits>, slot: Slot): PictureInfo | null {
  const p = model.get("pictures");
  const info = p?.[slot];
  return info && typeof info === "object" ? info : null;
}

function infoKey(i: PictureInfo): string {
  return JSON.stringify([i.name, i.source, i.size, i.width, i.height, i.url]);
}

export class PictureSlot {
  readonly el: HTMLElement;
  private readonly fileInput: HTMLInputElement;
  private readonly urlInput: HTMLInputElement;
  private readonly drop: HTMLElement;
  private readonly facts: HTMLElement;
  private readonly checks: HTMLUListElement;
  private readonly message: HTMLElement;
  private readonly clearButton: HTMLButtonElement;
  private local: Local | null = null;
  private token = 0; // bumps on every action, so a late answer to an older one is ignored

  constructor(
    private readonly slot: Slot,
    private readonly deps: SlotDeps,
  ) {
    const t = TEXT[slot];
    const { scope } = deps;
    this.fileInput = h("input", {
      type: "file",
      accept: "image/png,image/jpeg",
      class: "kls-file",
      tabindex: -1, // the drop zone is the keyboard way in (Enter or Space opens this picker)
      "data-testid": `${t.testid}-input`,
      "aria-label": `${t.title}: choose a picture file`,
    });
    this.drop = h("div", { class: "kls-drop", role: "button", tabindex: 0, "aria-label": `${t.title}: drop a picture, or press Enter to browse`, "data-testid": `${t.testid}-drop` });
    this.urlInput = h("input", { type: "text", placeholder: "https://… picture URL", "data-testid": t.url, "aria-label": `${t.title}: picture URL` });
    const urlButton = h("button", { type: "button", "data-testid": `${t.url}-go`, text: "Use URL" });
    this.clearButton = h("button", { type: "button", "data-testid": `${t.testid}-clear`, text: "Clear" });
    this.facts = h("div", { class: "kls-facts" });
    this.checks = h("ul", { class: "kls-checks", "data-testid": `${t.testid}-checks` });
    this.message = h("div", { class: "kls-note", role: "status" });
    this.el = h(
      "div",
      { class: "kls-slot", "data-slot": slot },
      h("h4", { text: t.title }),
      this.fileInput,
      this.drop,
      h("div", { class: "kls-row" }, this.urlInput, urlButton, this.clearButton),
      this.facts,
      this.checks,
      this.message,
    );

    scope.listen(this.drop, "click", () => this.fileInput.click());
    scope.listen(this.drop, "keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        this.fileInput.click();
      }
    });
    scope.listen(this.fileInput, "change", () => {
      const f = this.fileInput.files?.[0];
      if (f) void this.acceptFile(f);
      this.fileInput.value = ""; // choosing the same file again must fire change again
    });
    scope.listen(this.drop, "dragover", (e) => {
      e.preventDefault();
      this.drop.classList.add("kls-over");
    });
    scope.listen(this.drop, "dragleave", () => this.drop.classList.remove("kls-over"));
    scope.listen(this.drop, "drop", (e) => {
      e.preventDefault();
      this.drop.classList.remove("kls-over");
      const dt = e.dataTransfer;
      const f = dt?.files?.[0];
      if (f) void this.acceptFile(f);
      else {
        const url = dt?.getData("text/uri-list") || dt?.getData("text/plain") || "";
        if (url) void this.useUrl(url.split("\n")[0] ?? "");
      }
    });
    scope.listen(urlButton, "click", () => void this.useUrl(this.urlInput.value));
    scope.listen(this.urlInput, "keydown", (e) => {
      if (e.key === "Enter") void this.useUrl(this.urlInput.value);
    });
    scope.listen(this.clearButton, "click", () => void this.clear());
    scope.add(() => this.dropLocal());
    this.render();
  }

  /** What Generate needs to know about this slot. */
  state(): SlotState {
    if (this.local?.phase === "busy") return { kind: "busy" };
    if (this.local?.phase === "rejected") return { kind: "local-rejected" };
    const info = pictureOf(this.deps.model, this.slot);
    return info ? { kind: "stored", info } : { kind: "empty" };
  }

  /** The `pictures` trait changed. */
  fromTrait(): void {
    const info = pictureOf(this.deps.model, this.slot);
    // Python now holds another picture than the one we previewed (load_settings, remix): drop ours.
    if (this.local?.phase === "done" && (!info || infoKey(info) !== this.local.infoKey)) this.dropLocal();
    this.render();
    this.deps.onState();
  }

  async acceptFile(file: File): Promise<void> {
    const token = ++this.token;
    const rules = this.deps.rules();
    const head = readImageHeader(await file.slice(0, HEADER_BYTES).arrayBuffer());
    if (token !== this.token || this.deps.scope.isDisposed) return;
    const checks = pictureChecks({ format: head.format, width: head.width, height: head.height, size: file.size }, rules);
    const sendable = checks.every((c) => c.ok || (c.id !== "format" && c.id !== "bytes"));
    this.dropLocal();
    // Only pictures in an accepted format become a preview: the blob is ours, the bytes are not.
    const preview = checks.find((c) => c.id === "format")?.ok ? this.deps.scope.objectUrl(file) : null;
    const dimsText = head.width !== null && head.height !== null ? `${head.width} × ${head.height} px · ` : "";
    this.local = {
      name: file.name,
      blobUrl: preview,
      checks,
      facts: `${file.name} · ${dimsText}${bytes(file.size)} · ${head.format}`,
      phase: sendable ? "busy" : "rejected",
      message: sendable ? "Sending to Python for its checks…" : "Not sent: this file can't be used. Choose a JPG or PNG within the limits.",
      infoKey: null,
    };
    this.changed();
    if (!sendable) {
      // The user replaced the picture: Python must not keep generating from the old one.
      if (pictureOf(this.deps.model, this.slot)) await this.send({ kind: "clear_picture", slot: this.slot }, undefined, token);
      return;
    }
    const data = await file.arrayBuffer();
    if (token !== this.token) return;
    await this.send({ kind: "set_picture", slot: this.slot, name: file.name }, [data], token);
  }

  async useUrl(raw: string): Promise<void> {
    const url = raw.trim();
    const token = ++this.token;
    this.dropLocal();
    if (!isHttpUrl(url)) {
      this.local = { name: url, blobUrl: null, checks: [], facts: "", phase: "error", message: "Enter an http:// or https:// URL of a JPG or PNG picture.", infoKey: null };
      this.changed();
      return;
    }
    this.urlInput.value = url;
    this.local = { name: url, blobUrl: null, checks: [], facts: url, phase: "busy", message: "Python is fetching and checking the picture…", infoKey: null };
    this.changed();
    await this.send({ kind: "set_picture", slot: this.slot, url }, undefined, token);
  }

  async clear(): Promise<void> {
    const token = ++this.token;
    this.dropLocal();
    this.urlInput.value = "";
    this.changed();
    await this.send({ kind: "clear_picture", slot: this.slot }, undefined, token);
  }

  private async send(msg: { kind: string } & Record<string, unknown>, buffers: ArrayBuffer[] | undefined, token: number): Promise<void> {
    try {
      const reply = await this.deps.rpc.request<PictureInfo | null>(msg, buffers);
      if (token !== this.token || !this.local || this.local.phase !== "busy") return;
      this.local.phase = "done";
      this.local.message = "";
      this.local.infoKey = reply.data ? infoKey(reply.data) : null;
    } catch (e) {
      if (token !== this.token) return;
      const prefix = msg.kind === "clear_picture" ? "Could not clear the picture" : "Python refused the picture";
      if (this.local) {
        this.local.phase = "error";
        this.local.message = `${prefix}: ${errorText(e)}`;
      } else {
        this.local = { name: "", blobUrl: null, checks: [], facts: "", phase: "error", message: `${prefix}: ${errorText(e)}`, infoKey: null };
      }
    }
    this.changed();
  }

  private changed(): void {
    this.render();
    this.deps.onState();
  }

  private dropLocal(): void {
    if (this.local) this.deps.scope.revoke(this.local.blobUrl);
    this.local = null;
  }

  private render(): void {
    const info = pictureOf(this.deps.model, this.slot);
    const local = this.local;
    const showLocal = local !== null && (local.phase === "busy" || local.phase === "rejected" || !info);
    let src: string | null = null;
    let checks: Array<{ ok: boolean; text: string }> = [];
    let facts = "";
    if (showLocal) {
      src = local.blobUrl;
      checks = local.checks;
      facts = local.facts;
    } else if (info) {
      const own = local?.infoKey === infoKey(info) ? local.blobUrl : null;
      src = own ?? safeImageSrc(info.thumb) ?? safeImageSrc(info.url);
      if (isUnchecked(info)) {
        // load_settings restores a URL picture without fetching it: no numbers to check yet.
        facts = `${info.url ?? info.name} · checked by Python when you generate`;
      } else {
        facts = `${info.name} · ${info.width} × ${info.height} px · ${bytes(info.size)} · ${info.format}`;
        checks = infoChecks(info, this.deps.rules());
      }
    }
    const img = src ? h("img", { alt: "" }) : null;
    if (img && src) img.src = src;
    replace(this.drop, img ?? "Drop a JPG or PNG here, or click to browse");
    this.facts.textContent = facts;
    const frag = document.createDocumentFragment();
    for (const c of checks) frag.appendChild(h("li", { "data-ok": String(c.ok), text: c.text }));
    replace(this.checks, frag);
    this.message.textContent = local?.message ?? "";
    this.message.className = local?.phase === "error" || local?.phase === "rejected" ? "kls-bad-text" : "kls-note";
    this.clearButton.disabled = !info && !local;
  }
}

/** A URL picture Python has not fetched yet (all its numbers are 0). */
function isUnchecked(info: PictureInfo): boolean {
  return info.source === "url" && !info.size && !info.width && !info.height;
}

/** Python is authoritative: our passing checks from its numbers, then its problems as failures. */
export function infoChecks(info: PictureInfo, rules: Rules): Array<{ ok: boolean; text: string }> {
  const ours = pictureChecks({ format: info.format, width: info.width, height: info.height, size: info.size }, rules);
  const problems = Array.isArray(info.problems) ? info.problems : [];
  return [...ours.filter((c) => c.ok), ...problems.map((text) => ({ ok: false, text: String(text) }))];
}
