// The gallery's multi-selection (for joining clips): ids in the order they were picked, which is
// the order the clips are joined in. Shift extends a range from the last picked id. Pure.

export class Selection {
  private picked: string[] = [];
  private anchor: string | null = null;

  get ids(): readonly string[] {
    return this.picked;
  }

  get size(): number {
    return this.picked.length;
  }

  has(id: string): boolean {
    return this.picked.includes(id);
  }

  toggle(id: string): void {
    if (this.has(id)) this.picked = this.picked.filter((x) => x !== id);
    else this.picked.push(id);
    this.anchor = id;
  }

  /** Adds every id between the anchor and `id` in `order` (the gallery's order), keeping those
   * already picked where they were. Without an anchor it is a toggle. */
  extend(id: string, order: readonly string[]): void {
    const from = this.anchor === null ? -1 : order.indexOf(this.anchor);
    const to = order.indexOf(id);
    if (from < 0 || to < 0) return this.toggle(id);
    const [a, b] = from <= to ? [from, to] : [to, from];
    const span = order.slice(a, b + 1);
    if (from > to) span.reverse(); // picked from the anchor outwards
    for (const x of span) if (!this.has(x)) this.picked.push(x);
    this.anchor = id;
  }

  /** Keeps only ids for which `keep` holds (e.g. still shown and playable). */
  retain(keep: (id: string) => boolean): void {
    this.picked = this.picked.filter(keep);
    if (this.anchor !== null && !keep(this.anchor)) this.anchor = null;
  }

  clear(): void {
    this.picked = [];
    this.anchor = null;
  }
}
