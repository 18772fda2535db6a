// Go's strconv.FormatFloat for float64: shortest digits come from V8 (identical to Go's
// shortest round-trip digits); explicit precisions round the exact binary value half to
// even, as Go does, so `%.0f` of 2.5 is "2" where `toFixed` would give "3".

/** A decimal `0.d × 10^dp`; `d` has no leading or trailing zeros ("" is zero). */
interface Decimal {
  d: string;
  dp: number;
}

function shortestDecimal(x: number): Decimal {
  if (x === 0) return { d: '', dp: 0 };
  const s = x.toExponential();
  const e = s.indexOf('e');
  const mant = s.slice(0, e).replace('.', '');
  return { d: mant.replace(/0+$/, ''), dp: Number(s.slice(e + 1)) + 1 };
}

function exactDecimal(x: number): Decimal {
  if (x === 0) return { d: '', dp: 0 };
  let k = 0;
  let m = x;
  while (!Number.isInteger(m)) {
    m *= 2;
    k++;
  }
  let digits: string;
  if (k === 0) {
    digits = BigInt(m).toString();
    const trimmed = digits.replace(/0+$/, '');
    return { d: trimmed, dp: digits.length };
  }
  digits = (BigInt(m) * 5n ** BigInt(k)).toString();
  const dp = digits.length - k;
  const lead = digits.match(/^0*/)?.[0].length ?? 0;
  return { d: digits.slice(lead).replace(/0+$/, ''), dp: dp - lead };
}

/**
 * The number of binary fraction digits of a finite double; its exact decimal expansion
 * has that many fraction digits, ending in 5. `toFixed(p)` is exact except on ties,
 * which need exactly p + 1 of them.
 */
function fractionBits(x: number): number {
  let k = 0;
  let m = x;
  while (!Number.isInteger(m)) {
    m *= 2;
    k++;
  }
  return k;
}

function roundDecimal(a: Decimal, nd: number): Decimal {
  if (nd < 0 || nd >= a.d.length) return a;
  const c = a.d.charCodeAt(nd);
  let up: boolean;
  if (c === 0x35 && nd + 1 === a.d.length) up = nd > 0 && (a.d.charCodeAt(nd - 1) - 0x30) % 2 === 1;
  else up = c >= 0x35;
  if (!up) {
    const d = a.d.slice(0, nd).replace(/0+$/, '');
    return { d, dp: d.length === 0 ? 0 : a.dp };
  }
  let i = nd - 1;
  while (i >= 0 && a.d[i] === '9') i--;
  if (i < 0) return { d: '1', dp: a.dp + 1 };
  return { d: a.d.slice(0, i) + String.fromCharCode(a.d.charCodeAt(i) + 1), dp: a.dp };
}

function fmtE(a: Decimal, prec: number, upper: boolean): string {
  let out = a.d.length === 0 ? '0' : a.d[0] ?? '0';
  if (prec > 0) {
    out += '.';
    let frac = a.d.slice(1, 1 + prec);
    if (frac.length < prec) frac += '0'.repeat(prec - frac.length);
    out += frac;
  }
  let exp = a.d.length === 0 ? 0 : a.dp - 1;
  out += upper ? 'E' : 'e';
  if (exp < 0) {
    out += '-';
    exp = -exp;
  } else {
    out += '+';
  }
  return out + (exp < 10 ? '0' + exp : String(exp));
}

function fmtF(a: Decimal, prec: number): string {
  let out: string;
  if (a.dp > 0) {
    out = a.d.slice(0, a.dp);
    if (out.length < a.dp) out += '0'.repeat(a.dp - out.length);
  } else {
    out = '0';
  }
  if (prec > 0) {
    out += '.';
    for (let i = 1; i <= prec; i++) {
      const j = a.dp + i - 1;
      out += j >= 0 && j < a.d.length ? a.d[j] : '0';
    }
  }
  return out;
}

/**
 * Go's `strconv.FormatFloat(x, fmt, prec, 64)` for fmt 'e', 'E', 'f', 'g', 'G';
 * `prec` -1 means the shortest representation that round-trips.
 */
export function formatFloat(x: number, fmt: 'e' | 'E' | 'f' | 'g' | 'G', prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const abs = Math.abs(x);
  if (fmt === 'f' && prec >= 0 && prec <= 100 && abs < 1e21 && fractionBits(abs) !== prec + 1) {
    const fixed = abs.toFixed(prec);
    return neg ? '-' + fixed : fixed;
  }
  const shortest = prec < 0;
  let digs: Decimal;
  if (shortest) {
    digs = shortestDecimal(abs);
    switch (fmt) {
      case 'e':
      case 'E':
        prec = Math.max(digs.d.length - 1, 0);
        break;
      case 'f':
        prec = Math.max(digs.d.length - digs.dp, 0);
        break;
      default:
        prec = digs.d.length;
    }
  } else {
    digs = exactDecimal(abs);
    switch (fmt) {
      case 'e':
      case 'E':
        digs = roundDecimal(digs, prec + 1);
        break;
      case 'f':
        digs = roundDecimal(digs, digs.dp + prec);
        break;
      default:
        if (prec === 0) prec = 1;
        digs = roundDecimal(digs, prec);
    }
  }
  let body: string;
  switch (fmt) {
    case 'e':
    case 'E':
      body = fmtE(digs, prec, fmt === 'E');
      break;
    case 'f':
      body = fmtF(digs, prec);
      break;
    default: {
      let eprec = prec;
      if (eprec > digs.d.length && digs.d.length >= digs.dp) eprec = digs.d.length;
      if (shortest) eprec = 6;
      const exp = digs.dp - 1;
      if (digs.d.length !== 0 && (exp < -4 || exp >= eprec)) {
        body = fmtE(digs, Math.min(prec, digs.d.length) - 1, fmt === 'G');
      } else {
        const p = prec > digs.dp ? digs.d.length : prec;
        body = fmtF(digs, Math.max(p - digs.dp, 0));
      }
    }
  }
  return neg ? '-' + body : body;
}

/** gjson's `Result.String()` of a number: `FormatFloat(x, 'f', -1, 64)`, never an exponent. */
export function formatNumber(x: number): string {
  if (Number.isSafeInteger(x)) return Object.is(x, -0) ? '-0' : String(x);
  if (Math.abs(x) < 1e21 && Math.abs(x) >= 1e-6) {
    const s = String(x);
    if (!s.includes('e')) return s;
  }
  return formatFloat(x, 'f', -1);
}
