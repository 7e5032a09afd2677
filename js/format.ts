// Small pure formatters. Deterministic (no locale) where tests compare text, so "2,500" reads the
// same on every machine and matches Python's f"{n:,}".

/** 2612 -> "2,612" (Python's `{:,}`). */
export function grouped(n: number): string {
  const sign = n < 0 ? "-" : "";
  const [int, frac] = String(Math.abs(n)).split(".");
  const withCommas = (int ?? "0").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return sign + withCommas + (frac ? "." + frac : "");
}

/** Number of Unicode code points, as Python's len(str) counts (not UTF-16 units). */
export function codePoints(s: string): number {
  let n = 0;
  // for..of walks code points; cheaper than [...s].length for long strings (no array).
  for (const _ of s) n++;
  return n;
}

/** Bytes in the units people read: "512 B", "1.2 MB". 1 MB = 1024 * 1024 B, as the contract's 10 MB. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${trim1(n / 1024)} KB`;
  return `${trim1(n / (1024 * 1024))} MB`;
}

function trim1(x: number): string {
  const s = x.toFixed(1);
  return s.endsWith(".0") ? s.slice(0, -2) : s;
}

/** Seconds as "42 s", "3 min 05 s", "1 h 02 min". */
export function seconds(total: number): string {
  const s = Math.max(0, Math.floor(total));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

// One formatter for all rows: creating an Intl formatter per call is what makes toLocaleString slow.
let dateFormat: Intl.DateTimeFormat | null = null;

/** Epoch seconds as local date and time. */
export function localTime(epochSeconds: number): string {
  if (!Number.isFinite(epochSeconds)) return "";
  dateFormat ??= new Intl.DateTimeFormat(undefined, { dateStyle: "short", timeStyle: "medium" });
  return dateFormat.format(new Date(epochSeconds * 1000));
}

/** The ratio as people write it: 1.78:1 or 1:2.5. */
export function ratio(width: number, height: number): string {
  if (width <= 0 || height <= 0) return "?";
  const r = width / height;
  return r >= 1 ? `${round2(r)}:1` : `1:${round2(1 / r)}`;
}

function round2(x: number): string {
  return String(Math.round(x * 100) / 100);
}
