// Builds one view of the studio inside `el` and wires it to the model. Everything it sets up is
// registered with one Scope, so the returned cleanup undoes all of it.
//
// Layout (layout.ts picks it from the width): the inputs (frames, prompt, settings, Generate) in a
// column beside a large player of the current or selected result, and under them the results
// (this session's tasks and the history) as one gallery, the table one click away. The gallery and
// the inputs scroll inside, so the studio keeps its height whatever the history holds. Below
// NARROW_BELOW px the columns stack. The A/B comparison is its own view (a tab).

import type { AnyModel } from "@anywidget/types";
import { h } from "./dom";
import { FormStore } from "./form-store";
import { isGenerateKey, keepKeysFromJupyter } from "./keyboard";
import type { GalleryItem } from "./gallery-items";
import { chooseLayout, type Layout } from "./layout";
import { posterRoutesUsable } from "./media-route";
import { formProblems, pictureProblems, readRules, type Problem } from "./rules";
import { errorText, Rpc } from "./rpc";
import { Scope } from "./scope";
import { readEstimate, readSpending } from "./spend";
import { styleElement } from "./styles";
import type { Traits } from "./types";
import { ChunkRouter, Limiter, type VideoDeps } from "./video";
import { TaskStore } from "./views/cards";
import { CompareView } from "./views/compare";
import { FormView } from "./views/form";
import { GenerateView } from "./views/generate";
import { ErrorBanner, HeaderView } from "./views/header";
import { LibraryView } from "./views/library";
import { PictureSlot } from "./views/picture-slot";
import { StageView } from "./views/stage";
import { Tabs } from "./views/tabs";

export interface StudioOptions {
  /** Request timeout in ms (tests shorten it). */
  timeoutMs?: number;
  /** Rows per history page. */
  pageSize?: number;
}

const VIDEOS_AT_ONCE = 2;

export function mountStudio(model: AnyModel<Traits>, el: HTMLElement, opts: StudioOptions = {}): () => void {
  const scope = new Scope();
  const rules = () => readRules(model.get("rules"));
  const rpc = new Rpc(model, scope, opts.timeoutMs);
  const videoDeps: VideoDeps = { rpc, chunks: new ChunkRouter(model, scope), scope, limiter: new Limiter(VIDEOS_AT_ONCE) };

  const header = new HeaderView();
  const banner = new ErrorBanner(scope);
  const store = new FormStore(model, scope, rules);
  // Set below; slots report changes through it.
  let generate: GenerateView | null = null;
  const slotDeps = { model, scope, rpc, rules, onState: () => generate?.refresh() };
  const image = new PictureSlot("image", slotDeps);
  const tail = new PictureSlot("image_tail", slotDeps);
  const problems = (): Problem[] => [
    ...pictureProblems({ image: image.state(), image_tail: tail.state() }),
    ...formProblems(store.form, rules()),
  ];
  const form = new FormView(store, scope, rules);
  generate = new GenerateView(rpc, store, problems, scope);
  const gen = generate;
  store.subscribe((_, external) => (external ? gen.refresh() : gen.edited()));

  const tasks = new TaskStore(scope);
  const stage = new StageView(rpc, videoDeps, tasks);
  // The result in the player: picked by the user, or the task just started, or else the newest.
  let current: string | null = null;
  let picked = false;
  const library = new LibraryView({ rpc, scope, tasks, ...(opts.pageSize ? { pageSize: opts.pageSize } : {}), onOpen: (id) => open(id, true) });
  const itemOf = (id: string | null): GalleryItem | null => (id === null ? null : library.itemsNow.find((i) => i.local_id === id) ?? null);
  function open(id: string, byUser: boolean): void {
    current = id;
    picked = picked || byUser;
    library.setCurrent(id);
    stage.show(itemOf(id));
  }
  library.onItems = (items) => {
    // Nothing chosen yet: the newest result with a video, else the newest of all.
    if (!picked) {
      const first = items.find((i) => i.status === "completed" && i.has_video) ?? items[0];
      if (first && first.local_id !== current) {
        current = first.local_id;
        library.setCurrent(current);
      }
    }
    const item = itemOf(current);
    if (item || current === null) stage.show(item);
  };
  tasks.subscribe((changed) => {
    if (!changed) stage.tick(Date.now());
  });
  const follow = (id: string): void => {
    current = id;
    picked = true;
    library.setCurrent(id);
    // A task Python has not announced yet shows once its card arrives (onItems).
    const item = itemOf(id);
    if (item) stage.show(item);
  };
  gen.onStarted = follow;
  stage.onStarted = follow;
  stage.onOpen = (id) => open(id, true);
  stage.find = itemOf;

  // A/B comparison: listens to its own traits (comparison, form, pictures, rules) and task messages.
  const compare = new CompareView({ model, rpc, scope, video: videoDeps, rules });

  const inputs = h(
    "div",
    { class: "kls-inputs", "data-testid": "kls-inputs" },
    h("div", { class: "kls-pictures" }, image.el, tail.el),
    form.el,
    generate.el,
  );
  const workspace = h("div", { class: "kls-workspace" }, inputs, stage.el);
  const createPanel = h("div", { class: "kls-create" }, workspace, library.el);
  const tabs = new Tabs(scope, [
    { id: "create", label: "Create", panel: createPanel },
    { id: "compare", label: "Compare", panel: compare.el },
  ]);
  tabs.onChange = (id) => compare.setOpen(id === "compare");
  compare.onFresh = () => tabs.select("compare");
  // A comparison already on screen when this view renders: show it (as a new one would be).
  if (compare.hasComparison) tabs.select("compare");
  header.el.appendChild(tabs.el);

  const root = h("div", { class: "kls-root", "data-testid": "kls-root" }, styleElement(), header.el, banner.el, createPanel, compare.el);

  // The layout follows the width the studio has (a side panel, a narrow window).
  let layout: Layout | null = null;
  const applyLayout = (width: number): void => {
    const next = chooseLayout(width, layout);
    if (next === layout) return;
    layout = next;
    root.dataset["layout"] = next;
  };
  applyLayout(el.clientWidth || 1280);
  if (typeof ResizeObserver !== "undefined") {
    const watcher = new ResizeObserver((entries) => applyLayout(entries[0]?.contentRect.width ?? 0));
    watcher.observe(root);
    scope.add(() => watcher.disconnect());
  }

  // Keyboard: Ctrl/⌘+Enter generates from anywhere in the studio; Escape closes what is open.
  // Both stop here; keyboard.ts keeps them (and plain keys) from JupyterLab's shortcuts.
  keepKeysFromJupyter(root, scope);
  scope.listen(root, "keydown", (e) => {
    if (isGenerateKey(e)) {
      if (tabs.selected !== "create") return;
      e.preventDefault();
      e.stopPropagation();
      void gen.generate();
    } else if (e.key === "Escape") {
      if (library.escape() || compare.escape() || banner.dismiss()) {
        e.preventDefault();
        e.stopPropagation();
      }
    }
  });

  header.show(model.get("backend"));
  banner.show(model.get("error"));
  header.showSpending(readSpending(model.get("spending")));
  gen.showEstimate(readEstimate(model.get("estimate")));
  scope.on(model, "change:spending", () => header.showSpending(readSpending(model.get("spending"))));
  scope.on(model, "change:estimate", () => gen.showEstimate(readEstimate(model.get("estimate"))));
  scope.on(model, "change:backend", () => header.show(model.get("backend")));
  scope.on(model, "change:error", () => banner.show(model.get("error")));
  scope.on(model, "change:rules", () => {
    form.applyRules();
    image.fromTrait();
    tail.fromTrait();
  });
  scope.on(model, "change:pictures", () => {
    image.fromTrait();
    tail.fromTrait();
  });
  scope.on(model, "change:history_rev", () => library.refresh());
  scope.on(model, "change:history_count", () => library.refresh());
  scope.on(model, "msg:custom", (msg: unknown) => {
    if (typeof msg === "object" && msg !== null && (msg as { kind?: unknown }).kind === "task") {
      tasks.upsert((msg as { card?: unknown }).card);
    }
  });

  // Messages sent before this view existed were dropped: ask for the current state now.
  rpc
    // With poster routes, earlier sessions' cards come without poster bytes: the rows name them.
    .request<{ cards: unknown[] }>({ kind: "snapshot", ...(posterRoutesUsable() ? { poster_routes: true } : {}) })
    .then(({ data }) => tasks.snapshot(Array.isArray(data?.cards) ? data.cards : []))
    .catch((e: unknown) => tasks.fail(`Could not load the tasks: ${errorText(e)}`));
  library.refresh();

  el.appendChild(root);
  scope.add(() => root.remove());
  return () => scope.dispose();
}
