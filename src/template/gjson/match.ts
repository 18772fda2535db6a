/**
 * The wildcard matcher behind `*`/`?` keys and the `%` / `!%` query operators (the
 * semantics of tidwall/match): `*` matches any run of characters, `?` exactly one
 * character (a code point), `\c` the character `c` literally.
 */

const STAR = -1;
const ANY = -2;

/** A wildcard pattern compiled once; `match` runs in O(len(str) × len(pattern)) worst case. */
export class Glob {
  private readonly tokens: readonly number[];
  private readonly matchesAll: boolean;
  private readonly matchesNothing: boolean;

  constructor(pattern: string) {
    const tokens: number[] = [];
    let broken = false;
    for (let i = 0; i < pattern.length; ) {
      let cp = pattern.codePointAt(i) ?? 0;
      if (cp === 0x2a) {
        if (tokens[tokens.length - 1] !== STAR) tokens.push(STAR);
      } else if (cp === 0x3f) {
        tokens.push(ANY);
      } else {
        if (cp === 0x5c) {
          i++;
          if (i >= pattern.length) {
            broken = true;
            break;
          }
          cp = pattern.codePointAt(i) ?? 0;
        }
        tokens.push(cp);
      }
      i += cp > 0xffff ? 2 : 1;
    }
    this.tokens = tokens;
    this.matchesAll = pattern === '*';
    this.matchesNothing = broken;
  }

  /** Whether the whole of `str` matches the pattern. */
  match(str: string): boolean {
    if (this.matchesAll) return true;
    if (this.matchesNothing) return false;
    const t = this.tokens;
    let s = 0;
    let p = 0;
    let starP = -1;
    let starS = 0;
    while (s < str.length) {
      const cp = str.codePointAt(s) ?? 0;
      if (p < t.length) {
        const tok = t[p];
        if (tok === STAR) {
          starP = p++;
          starS = s;
          continue;
        }
        if (tok === ANY || tok === cp) {
          s += cp > 0xffff ? 2 : 1;
          p++;
          continue;
        }
      }
      if (starP < 0) return false;
      p = starP + 1;
      starS += (str.codePointAt(starS) ?? 0) > 0xffff ? 2 : 1;
      s = starS;
    }
    while (p < t.length && t[p] === STAR) p++;
    return p === t.length;
  }
}
