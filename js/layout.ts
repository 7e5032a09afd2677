// Which arrangement the studio takes for the width it has. Pure; studio.ts watches the width.

export type Layout = "wide" | "narrow";

/** Below this width (px) the inputs and the player stack (a side panel, a narrow window). */
export const NARROW_BELOW = 860;

export function chooseLayout(width: number, current: Layout | null = null): Layout {
  if (!(width > 0)) return current ?? "wide"; // not laid out (hidden tab): keep what we had
  // A little hysteresis, so a width right at the edge does not flip on every scrollbar change.
  if (current === "narrow" && width < NARROW_BELOW + 16) return "narrow";
  if (current === "wide" && width >= NARROW_BELOW - 16) return "wide";
  return width < NARROW_BELOW ? "narrow" : "wide";
}
