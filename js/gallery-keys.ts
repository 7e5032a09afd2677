// Keyboard movement in a grid of tiles laid out in rows of `columns`. Pure.

/** The index the key moves focus to, or null when the key is not a movement key. */
export function moveIndex(key: string, index: number, count: number, columns: number): number | null {
  if (count <= 0) return null;
  const cols = Math.max(1, Math.floor(columns));
  const clamp = (i: number) => Math.min(count - 1, Math.max(0, i));
  switch (key) {
    case "ArrowRight":
      return clamp(index + 1);
    case "ArrowLeft":
      return clamp(index - 1);
    case "ArrowDown":
      // The last row may be short: moving down from above its end lands on the last tile.
      return index + cols < count ? index + cols : clamp(index);
    case "ArrowUp":
      return index - cols >= 0 ? index - cols : clamp(index);
    case "Home":
      return 0;
    case "End":
      return count - 1;
    default:
      return null;
  }
}

/** How many tiles share a row: from the tiles' left edges (the first row's count). */
export function columnsFromLefts(lefts: readonly number[]): number {
  if (lefts.length === 0) return 1;
  let n = 1;
  while (n < lefts.length && (lefts[n] ?? 0) > (lefts[n - 1] ?? 0)) n++;
  return n;
}
