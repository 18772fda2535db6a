// Go strings are UTF-8 byte sequences; these helpers give JS strings Go's byte semantics.

const NON_ASCII = /[\u0080-\uffff]/;

/** Whether every character is ASCII (byte offsets then equal string offsets). */
export function isAscii(s: string): boolean {
  return !NON_ASCII.test(s);
}

/** Go's `len(s)`: the UTF-8 byte length. */
export function byteLength(s: string): number {
  return isAscii(s) ? s.length : Buffer.byteLength(s, 'utf8');
}

/** Go's `s[start:end]` on byte offsets; a cut inside a character decodes as U+FFFD. */
export function byteSlice(s: string, start: number, end: number): string {
  if (isAscii(s)) return s.slice(start, end);
  return Buffer.from(s, 'utf8').subarray(start, end).toString('utf8');
}

/** Go's `s[i]`: the byte at offset `i`. */
export function byteAt(s: string, i: number): number {
  if (isAscii(s)) return s.charCodeAt(i);
  return Buffer.from(s, 'utf8')[i] ?? 0;
}

/** The number of Unicode code points (Go's `utf8.RuneCountInString`). */
export function runeCount(s: string): number {
  if (isAscii(s)) return s.length;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) i++;
    }
    n++;
  }
  return n;
}

/** Compares strings in Go's byte order (Unicode code point order), not UTF-16 unit order. */
export function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** The width in UTF-16 units of the code point at `i` (1 past the end, like Go's advance). */
export function codePointWidth(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d < 0xe000) return 2;
  }
  return 1;
}
