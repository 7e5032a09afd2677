// Builds one view of the studio inside `el` and wires it to the model. Everything it sets up is
// registered with one Scope, so the returned cleanup undoes all of it.

import type { AnyModel } from "@anywidget/types";
import { h } from "./dom";
import { FormStore } from "./form-store";
import { formProblems, pictureProblems, readRules, type Problem } from "./rules";
import { errorText, Rpc } from "./rpc";
import { Scope } from "./scope";
import { styleElement } from "./styles";
import type { Traits } from "./types";
import { ChunkRouter, Limiter, type VideoDeps } from "./video";
import { CardsView } from "./views/cards";
import { CompareView } from "./views/compare";
import { FormView } from "./views/form";
import { GenerateView } from "./views/generate";
import { ErrorBanner, HeaderView } from "./views/header";
import { HistoryView } from "./views/history";
import { PictureSlot } from "./views/picture-slot";

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
  const cards = new CardsView(videoDeps);
  const history = new HistoryView(rpc, videoDeps, scope, opts.pageSize);
  // A/B comparison: listens to its own traits (comparison, form, pictures, rules) and task messages.
  const compare = new CompareView({ model, rpc, scope, video: videoDeps, rules });

  const root = h(
    "div",
    { class: "kls-root" },
    styleElement(),
    header.el,
    banner.el,
    h("div", { class: "kls-pictures" }, image.el, tail.el),
    form.el,
    generate.el,
    cards.el,
    compare.el,
    history.el,
  );

  header.show(model.get("backend"));
  banner.show(model.get("error"));
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
  scope.on(model, "change:history_rev", () => history.refresh());
  scope.on(model, "change:history_count", () => history.refresh());
  scope.on(model, "msg:custom", (msg: unknown) => {
    if (typeof msg === "object" && msg !== null && (msg as { kind?: unknown }).kind === "task") {
      cards.upsert((msg as { card?: unknown }).card);
    }
  });

  // Messages sent before this view existed were dropped: ask for the current state now.
  rpc
    .request<{ cards: unknown[] }>({ kind: "snapshot" })
    .then(({ data }) => cards.snapshot(Array.isArray(data?.cards) ? data.cards : []))
    .catch((e: unknown) => cards.note(`Could not load the tasks: ${errorText(e)}`));
  history.refresh();

  el.appendChild(root);
  scope.add(() => root.remove());
  return () => scope.dispose();
}
