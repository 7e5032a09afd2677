// One gallery tile: poster (or a neutral placeholder), status, prompt, author and settings, and
// while the task runs its progress and times. Updated in place, so its focus and image survive.

import { h, replace } from "../dom";
import { isPlayable, isRunning, type GalleryItem } from "../gallery-items";
import { posterRouteFailed, posterRouteUrl } from "../media-route";
import { safePosterSrc } from "../safe";
import { settingsText, UNKNOWN_TEXT } from "./cards";

/** At most this many characters of the prompt in an accessible name. */
const NAME_CHARS = 80;

export function shortPrompt(prompt: string): string {
  const p = prompt.trim().replace(/\s+/g, " ");
  if (p === "") return "(no prompt)";
  return p.length > NAME_CHARS ? `${p.slice(0, NAME_CHARS - 1)}…` : p;
}

/** A poster element: the image when Python made one, else a placeholder that says the status.
 *  A poster by route loads only once its tile nears the screen (loading="lazy"). */
export function posterEl(item: Pick<GalleryItem, "poster" | "poster_route" | "status">): HTMLElement {
  const data = safePosterSrc(item.poster);
  const src = data ?? posterRouteUrl(item.poster_route);
  if (src !== null) {
    const img = h("img", { class: "kls-poster-img", alt: "", loading: "lazy", decoding: "async", "data-testid": "kls-poster" });
    if (data === null) img.addEventListener("error", () => posterRouteFailed(), { once: true });
    img.src = src;
    return img;
  }
  return h("span", { class: "kls-poster-none", "data-testid": "kls-poster-placeholder", "aria-hidden": "true", "data-status": item.status });
}

export class TileView {
  readonly el: HTMLLIElement;
  readonly open: HTMLButtonElement;
  readonly check: HTMLInputElement;
  private readonly posterBox = h("span", { class: "kls-poster" });
  private readonly chip = h("span", { class: "kls-chip", "aria-hidden": "true" });
  private readonly status = h("span", { class: "kls-status" });
  private readonly ids = h("span", { class: "kls-ids" });
  private readonly prompt = h("div", { class: "kls-prompt kls-tile-prompt" });
  private readonly meta = h("div", { class: "kls-tile-meta" });
  private readonly bar = h("div");
  private readonly progress: HTMLElement;
  readonly times = h("div", { class: "kls-times", "data-testid": "kls-times" });
  private readonly note = h("div", { "data-testid": "kls-card-note" });
  private posterKey: string | null = "";
  item: GalleryItem;

  constructor(item: GalleryItem) {
    this.item = item;
    this.open = h("button", { type: "button", class: "kls-tile-open", "data-testid": "kls-tile-open", tabindex: -1 }, this.posterBox, this.chip);
    this.check = h("input", { type: "checkbox", class: "kls-tile-check", "data-testid": "kls-tile-check", tabindex: -1 });
    this.progress = h("div", { class: "kls-progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "data-testid": "kls-progress" }, this.bar);
    this.el = h(
      "li",
      { class: "kls-tile", "data-testid": "kls-card" },
      this.open,
      this.check,
      h("div", { class: "kls-tile-body" }, h("div", { class: "kls-card-head" }, this.status, this.ids), this.prompt, this.meta, this.progress, this.times, this.note),
    );
    this.update(item);
  }

  update(item: GalleryItem): void {
    this.item = item;
    const name = shortPrompt(item.prompt);
    this.el.dataset["status"] = item.status;
    this.el.dataset["localId"] = item.local_id;
    this.open.setAttribute("aria-label", `${name} (${item.status})`);
    this.check.setAttribute("aria-label", `Select for joining: ${name}`);
    this.check.disabled = !isPlayable(item);
    const posterKey = `${item.poster ?? ""}|${item.poster_route ?? ""}`;
    if (this.posterKey !== posterKey) {
      this.posterKey = posterKey;
      replace(this.posterBox, posterEl(item));
    }
    this.posterBox.dataset["status"] = item.status;
    this.chip.textContent = item.settings.duration ? `${item.settings.duration} s` : "";
    this.status.textContent = item.status;
    this.ids.textContent = item.task_id ?? item.local_id;
    this.prompt.textContent = item.prompt;
    this.prompt.title = item.prompt;
    const s = item.settings;
    replace(this.meta, item.user ? h("span", { class: "kls-user", "data-testid": "kls-user", text: item.user }) : null, item.user ? " · " : null, settingsText(s.resolution, s.duration, s.generate_audio));
    const running = isRunning(item.status);
    this.progress.hidden = !running;
    const pct = Math.round(item.status === "completed" ? 100 : item.progress);
    this.progress.setAttribute("aria-valuenow", String(pct));
    this.progress.setAttribute("aria-label", `Progress of ${name}`);
    this.bar.style.width = `${pct}%`;
    this.times.hidden = !item.live;
    this.showNote(item);
  }

  setCurrent(on: boolean): void {
    this.el.classList.toggle("kls-current", on);
    if (on) this.open.setAttribute("aria-current", "true");
    else this.open.removeAttribute("aria-current");
  }

  setPicked(on: boolean): void {
    this.el.classList.toggle("kls-picked", on);
    this.check.checked = on;
  }

  private showNote(item: GalleryItem): void {
    if (item.status === "unknown") {
      // Python's reason, if any, after the plain explanation.
      replace(this.note, UNKNOWN_TEXT, item.error?.message ? ` (${item.error.message})` : null);
      this.note.className = "kls-note kls-tile-note";
    } else if (item.status === "failed" || item.error) {
      // A completed task can carry an error too (its video could not be downloaded).
      const e = item.error ?? { code: null, message: "The task failed without a message." };
      replace(this.note, e.code ? h("code", { "data-testid": "kls-error-code", text: e.code }) : null, e.code ? " " : null, h("span", { text: e.message }));
      this.note.className = `${item.status === "failed" ? "kls-bad-text" : "kls-note"} kls-tile-note`;
    } else {
      replace(this.note);
      this.note.className = "kls-tile-note";
    }
  }
}
