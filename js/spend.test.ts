import { afterEach, describe, expect, it } from "vitest";
import { readEstimate, readSpending } from "./spend";
import { settle } from "./test/fake-model";
import { picture } from "./test/fixtures";
import { mount, type Mounted } from "./test/mount";

let m: Mounted | null = null;
afterEach(() => {
  m?.cleanup();
  m = null;
  document.body.textContent = "";
});

describe("reading the spend traits", () => {
  it("keeps a well-formed estimate and spending, and drops malformed ones", () => {
    expect(readEstimate({ credits: 10, source: "last task", text: "≈ 10 credits" })).toEqual({ credits: 10, source: "last task", text: "≈ 10 credits" });
    expect(readEstimate({ credits: "10", source: "bogus", text: "x" })).toEqual({ credits: null, source: "unknown", text: "x" });
    expect(readEstimate({ credits: 10 })).toBeNull();
    expect(readEstimate(null)).toBeNull();
    expect(readSpending({ text: "Spent 1 of 3 tasks today", over: "yes" })).toEqual({ text: "Spent 1 of 3 tasks today", over: false });
    expect(readSpending({ text: "" })).toBeNull();
  });
});

describe("the studio shows spend", () => {
  it("shows the estimate beside Generate and the spend in the header, as text", async () => {
    const hostile = '<img src=x onerror="alert(1)">';
    m = mount({
      pictures: { image: picture(), image_tail: null },
      estimate: { credits: null, source: "unknown", text: `cost unknown until a first 720p 5 s task ${hostile}` },
      spending: { text: `Spent 2 of 3 tasks today ${hostile}`, over: false },
    });
    const estimate = m.q("kls-estimate");
    const spending = m.q("kls-spending");
    expect(estimate.textContent).toBe(`cost unknown until a first 720p 5 s task ${hostile}`);
    expect(spending.textContent).toBe(`Spent 2 of 3 tasks today ${hostile}`);
    expect(m.el.querySelector("img[src=x]")).toBeNull();
    expect(spending.dataset["over"]).toBe("false");

    m.model.set("estimate", { credits: 10, source: "last task", text: "≈ 10 credits (from the last 720p 5 s task)" });
    m.model.set("spending", { text: "Spent 3 of 3 tasks today", over: true });
    await settle();
    expect(estimate.textContent).toBe("≈ 10 credits (from the last 720p 5 s task)");
    expect(spending.dataset["over"]).toBe("true");
    m.model.set("spending", null);
    await settle();
    expect(spending.hidden).toBe(true);
  });

  it("shows a budget refusal beside Generate, not as a banner", async () => {
    m = mount({ pictures: { image: picture(), image_tail: null }, spending: { text: "Spent 1 of 1 tasks this session", over: true } });
    const refusal = "budget of 1 task this session for ana: 1 of 1 tasks used; it lasts for this session. Nothing was sent.";
    m.model.answer("generate", () => ({ error: { message: refusal, field: null } }));
    m.q<HTMLButtonElement>("kls-generate").click();
    await settle();
    expect(m.q("kls-generate-reason").textContent).toBe(refusal);
    expect(m.q("kls-error").hidden).toBe(true);
  });
});
