import { describe, expect, it } from "vitest";
import { formProblems, pictureChecks, pictureProblems, readForm, readRules, DEFAULT_RULES, type PictureFacts } from "./rules";
import { form, picture, RULES } from "./test/fixtures";

const messages = (f = form()) => formProblems(f, RULES).map((p) => p.message);
const MB10 = 10 * 1024 * 1024;

describe("prompt", () => {
  it("accepts exactly 2500 characters and refuses 2501, with the sentence", () => {
    expect(messages(form({ prompt: "a".repeat(2500) }))).toEqual([]);
    expect(messages(form({ prompt: "a".repeat(2501) }))).toEqual(["Prompt is 2,501 characters; the limit is 2,500."]);
    expect(messages(form({ prompt: "a".repeat(2612) }))).toEqual(["Prompt is 2,612 characters; the limit is 2,500."]);
  });

  it("counts code points like Python, not UTF-16 units", () => {
    // 2500 emoji are 5000 UTF-16 units but 2500 characters for Python's len().
    const emoji = "😀".repeat(2500);
    expect(emoji.length).toBe(5000);
    expect(messages(form({ prompt: emoji }))).toEqual([]);
    expect(messages(form({ prompt: emoji + "𝒳" }))).toEqual(["Prompt is 2,501 characters; the limit is 2,500."]);
  });

  it("requires a prompt that is more than whitespace", () => {
    expect(messages(form({ prompt: "  \n" }))).toEqual(["Write a prompt: describe the video you want."]);
  });

  it("limits the negative prompt", () => {
    expect(messages(form({ negative_prompt: "b".repeat(2500) }))).toEqual([]);
    expect(messages(form({ negative_prompt: "b".repeat(2501) }))).toEqual(["Negative prompt is 2,501 characters; the limit is 2,500."]);
  });
});

describe("settings", () => {
  it("checks resolution and duration against the rules", () => {
    expect(messages(form({ resolution: "8k" }))).toEqual(['Resolution must be one of 720p, 1080p, 4k; it is "8k".']);
    expect(messages(form({ duration: 7 }))).toEqual(["Duration must be 5 or 10 seconds; it is 7."]);
    expect(messages(form({ resolution: "4k", duration: 10 }))).toEqual([]);
  });

  it("uses the numbers of the rules trait", () => {
    const tight = readRules({ ...DEFAULT_RULES, prompt_max: 10 });
    expect(formProblems(form({ prompt: "x".repeat(11) }), tight)[0]?.message).toBe("Prompt is 11 characters; the limit is 10.");
  });
});

describe("voice ids", () => {
  it("need audio", () => {
    expect(messages(form({ voice_ids: ["v1"] }))).toEqual(["Voice ids need audio: turn audio on or remove them."]);
    expect(messages(form({ voice_ids: ["v1"], generate_audio: true }))).toEqual([]);
  });

  it("are at most two", () => {
    expect(messages(form({ voice_ids: ["a", "b"], generate_audio: true }))).toEqual([]);
    expect(messages(form({ voice_ids: ["a", "b", "c"], generate_audio: true }))).toEqual(["At most 2 voice ids; there are 3."]);
  });

  it("are non-empty", () => {
    expect(messages(form({ voice_ids: [" "], generate_audio: true }))).toEqual(["Each voice id must be non-empty."]);
  });
});

describe("multi-prompt", () => {
  const seg = (prompt: string, duration: number) => ({ prompt, duration });

  it("is off when empty", () => {
    expect(messages(form({ multi_prompt: [] }))).toEqual([]);
  });

  it("needs the seconds to add up to the duration", () => {
    expect(messages(form({ multi_prompt: [seg("a", 2), seg("b", 3)] }))).toEqual([]);
    expect(messages(form({ multi_prompt: [seg("a", 2), seg("b", 2)] }))).toEqual(["Segments add up to 4 s; the duration is 5 s. They must be equal."]);
    expect(messages(form({ duration: 10, multi_prompt: [seg("a", 5)] }))).toEqual(["Segments add up to 5 s; the duration is 10 s. They must be equal."]);
  });

  it("takes at most 6 segments", () => {
    const six = Array.from({ length: 6 }, (_, i) => seg(`s${i}`, i < 4 ? 2 : 1));
    expect(messages(form({ duration: 10, multi_prompt: six }))).toEqual([]);
    const seven = [...six, seg("s7", 1)];
    expect(messages(form({ duration: 10, multi_prompt: seven }))).toEqual([
      "Multi-prompt takes 1 to 6 segments; there are 7.",
      "Segments add up to 11 s; the duration is 10 s. They must be equal.",
    ]);
  });

  it("limits each segment's prompt to 512 characters and needs one", () => {
    expect(messages(form({ multi_prompt: [seg("x".repeat(512), 5)] }))).toEqual([]);
    expect(messages(form({ multi_prompt: [seg("x".repeat(513), 5)] }))).toEqual(["Segment 1's prompt is 513 characters; the limit is 512."]);
    expect(messages(form({ multi_prompt: [seg("a", 4), seg("", 1)] }))).toEqual(["Segment 2 needs a prompt."]);
  });

  it("needs whole seconds, at least 1 each", () => {
    expect(messages(form({ multi_prompt: [seg("a", 5), seg("b", 0)] }))).toEqual(["Segment 2 must last whole seconds, at least 1 s."]);
    expect(messages(form({ multi_prompt: [seg("a", 2.5), seg("b", 2.5)] }))).toEqual([
      "Segment 1 must last whole seconds, at least 1 s.",
      "Segment 2 must last whole seconds, at least 1 s.",
    ]);
  });
});

describe("picture checks", () => {
  const facts = (over: Partial<PictureFacts> = {}): PictureFacts => ({ format: "PNG", width: 1280, height: 720, size: 1000, ...over });
  const failed = (f: PictureFacts) => pictureChecks(f, RULES).filter((c) => !c.ok).map((c) => c.id);

  it("passes a good picture with a sentence per check", () => {
    const checks = pictureChecks(facts(), RULES);
    expect(checks.map((c) => [c.id, c.ok])).toEqual([["format", true], ["bytes", true], ["side", true], ["aspect", true]]);
    expect(checks.every((c) => c.text.endsWith("."))).toBe(true);
  });

  it("needs each side at least 300 px", () => {
    expect(failed(facts({ width: 300, height: 300 }))).toEqual([]);
    expect(failed(facts({ width: 299, height: 300 }))).toEqual(["side"]);
    expect(pictureChecks(facts({ width: 400, height: 299 }), RULES).find((c) => c.id === "side")?.text).toBe(
      "400 × 299 px: the shorter side is 299 px; each side must be at least 300 px.",
    );
  });

  it("allows 10 MB exactly, not one byte more", () => {
    expect(failed(facts({ size: MB10 }))).toEqual([]);
    expect(failed(facts({ size: MB10 + 1 }))).toEqual(["bytes"]);
  });

  it("allows the aspect ratio 2.5 exactly (both ways) but not 2.51", () => {
    expect(failed(facts({ width: 750, height: 300 }))).toEqual([]);
    expect(failed(facts({ width: 300, height: 750 }))).toEqual([]);
    expect(failed(facts({ width: 753, height: 300 }))).toEqual(["aspect"]); // 2.51
    expect(failed(facts({ width: 300, height: 753 }))).toEqual(["aspect"]);
    expect(pictureChecks(facts({ width: 753, height: 300 }), RULES).find((c) => c.id === "aspect")?.text).toBe(
      "Aspect ratio 2.51:1 is outside 1:2.5 to 2.5:1.",
    );
  });

  it("accepts JPEG and PNG only, whatever the case or JPG spelling", () => {
    expect(failed(facts({ format: "jpeg" }))).toEqual([]);
    expect(failed(facts({ format: "JPG" }))).toEqual([]);
    expect(failed(facts({ format: "GIF" }))).toEqual(["format"]);
    expect(pictureChecks(facts({ format: "GIF" }), RULES)[0]?.text).toBe("Not a JPG or PNG picture (the bytes say GIF).");
  });

  it("fails when the size could not be read", () => {
    expect(failed(facts({ width: null, height: null }))).toEqual(["side"]);
  });
});

describe("picture slots for Generate", () => {
  it("need a first frame; the last frame is optional", () => {
    expect(pictureProblems({ image: { kind: "empty" }, image_tail: { kind: "empty" } }).map((p) => p.message)).toEqual(["Add a first-frame picture."]);
    expect(pictureProblems({ image: { kind: "stored", info: picture() }, image_tail: { kind: "empty" } })).toEqual([]);
  });

  it("block while checking, and on any problem", () => {
    const bad = picture({ problems: ["too small"] });
    expect(
      pictureProblems({ image: { kind: "busy" }, image_tail: { kind: "stored", info: bad } }).map((p) => p.message),
    ).toEqual(["The first-frame picture is still being checked.", "The last-frame picture fails its checks; see the picture."]);
    expect(pictureProblems({ image: { kind: "local-rejected" }, image_tail: { kind: "empty" } })).toHaveLength(1);
  });
});

describe("reading traits", () => {
  it("fills missing rules with the defaults", () => {
    expect(readRules(null)).toEqual(DEFAULT_RULES);
    expect(readRules({ prompt_max: "x", resolutions: ["720p"] }).resolutions).toEqual(["720p"]);
    expect(readRules({ prompt_max: "x" }).prompt_max).toBe(2500);
  });

  it("reads a partial form", () => {
    const f = readForm({ prompt: "hi", multi_prompt: [{ prompt: "a", duration: 5 }, "junk"] }, RULES);
    expect(f).toEqual({ prompt: "hi", negative_prompt: "", resolution: "720p", duration: 5, generate_audio: false, voice_ids: [], multi_prompt: [{ prompt: "a", duration: 5 }] });
  });
});
