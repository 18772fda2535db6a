// Go's time package as templates need it: reference-time layouts (format and parse),
// IANA zones through Intl (one cached formatter per zone), Duration strings.
import { GoTime } from '../values.js';

const MS_PER_DAY = 86_400_000;

/** Days since 1970-01-01 of a proleptic Gregorian date (any year, month 1–12). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The proleptic Gregorian date of a day count since 1970-01-01. */
export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

function isLeap(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

function daysIn(month: number, year: number): number {
  if (month === 2) return isLeap(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

// ---------------------------------------------------------------------------------
// Zones

/**
 * Go's tzdata abbreviations where ICU's en-US names are only "GMT+8" style, keyed by
 * UTC offset in seconds. Zones not listed fall back to ICU's name when it is
 * alphabetic (EST, PDT...) or to tzdata's numeric form ("+08", "+0545").
 */
const CET = { 3600: 'CET', 7200: 'CEST' };
const EET = { 7200: 'EET', 10800: 'EEST' };
const AEST = { 36000: 'AEST', 39600: 'AEDT' };
const ACST = { 34200: 'ACST', 37800: 'ACDT' };
const CHINA = { 28800: 'CST', 32400: 'CDT' };
const ZONE_ABBREVIATIONS: Readonly<Record<string, Readonly<Record<number, string>>>> = {
  GMT: { 0: 'GMT' },
  'Etc/GMT': { 0: 'GMT' },
  'Asia/Shanghai': CHINA,
  'Asia/Chongqing': CHINA,
  'Asia/Harbin': CHINA,
  PRC: CHINA,
  'Asia/Taipei': CHINA,
  'Asia/Macau': CHINA,
  'Asia/Hong_Kong': { 28800: 'HKT', 32400: 'HKST' },
  'Asia/Tokyo': { 32400: 'JST', 36000: 'JDT' },
  Japan: { 32400: 'JST', 36000: 'JDT' },
  'Asia/Seoul': { 32400: 'KST', 36000: 'KDT' },
  'Asia/Kolkata': { 19800: 'IST' },
  'Asia/Calcutta': { 19800: 'IST' },
  'Asia/Karachi': { 18000: 'PKT', 21600: 'PKST' },
  'Asia/Jakarta': { 25200: 'WIB' },
  'Asia/Manila': { 28800: 'PST', 32400: 'PDT' },
  'Asia/Jerusalem': { 7200: 'IST', 10800: 'IDT' },
  'Europe/London': { 0: 'GMT', 3600: 'BST' },
  'Europe/Dublin': { 0: 'GMT', 3600: 'IST' },
  'Europe/Lisbon': { 0: 'WET', 3600: 'WEST' },
  'Europe/Moscow': { 10800: 'MSK' },
  'Europe/Berlin': CET,
  'Europe/Paris': CET,
  'Europe/Madrid': CET,
  'Europe/Rome': CET,
  'Europe/Amsterdam': CET,
  'Europe/Brussels': CET,
  'Europe/Vienna': CET,
  'Europe/Zurich': CET,
  'Europe/Stockholm': CET,
  'Europe/Oslo': CET,
  'Europe/Copenhagen': CET,
  'Europe/Warsaw': CET,
  'Europe/Prague': CET,
  'Europe/Budapest': CET,
  'Europe/Belgrade': CET,
  'Europe/Luxembourg': CET,
  'Europe/Athens': EET,
  'Europe/Helsinki': EET,
  'Europe/Kiev': EET,
  'Europe/Kyiv': EET,
  'Europe/Bucharest': EET,
  'Europe/Sofia': EET,
  'Europe/Riga': EET,
  'Europe/Tallinn': EET,
  'Europe/Vilnius': EET,
  'Africa/Cairo': EET,
  'Africa/Johannesburg': { 7200: 'SAST' },
  'Africa/Lagos': { 3600: 'WAT' },
  'Africa/Nairobi': { 10800: 'EAT' },
  'Australia/Sydney': AEST,
  'Australia/Melbourne': AEST,
  'Australia/Hobart': AEST,
  'Australia/Brisbane': AEST,
  'Australia/Adelaide': ACST,
  'Australia/Darwin': ACST,
  'Australia/Perth': { 28800: 'AWST', 32400: 'AWDT' },
  'Pacific/Auckland': { 43200: 'NZST', 46800: 'NZDT' },
};

interface ZoneInfo {
  readonly offset: number;
  readonly abbr: string;
}

interface ZoneEntry {
  readonly dtf: Intl.DateTimeFormat;
  readonly abbreviations: Readonly<Record<number, string>> | undefined;
  /** The start of the last hour known to have one offset throughout, and that offset. */
  hour: number;
  info: ZoneInfo | undefined;
}

const ZONE_CACHE_LIMIT = 256;
const zoneCache = new Map<string, ZoneEntry | null>();

function zoneEntry(zone: string): ZoneEntry | null {
  let entry = zoneCache.get(zone);
  if (entry !== undefined) return entry;
  try {
    const dtf = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      timeZoneName: 'short',
    });
    const resolved = dtf.resolvedOptions().timeZone;
    entry = { dtf, abbreviations: ZONE_ABBREVIATIONS[zone] ?? ZONE_ABBREVIATIONS[resolved], hour: Number.NaN, info: undefined };
  } catch {
    entry = null;
  }
  if (zoneCache.size >= ZONE_CACHE_LIMIT) zoneCache.clear();
  zoneCache.set(zone, entry);
  return entry;
}

const FIXED_PREFIX = 'fixed:';

/** A zone with a constant offset and a (possibly empty) name, as Go's FixedZone. */
export function fixedZone(name: string, offsetSeconds: number): string {
  if (offsetSeconds === 0 && name === 'UTC') return 'UTC';
  return `${FIXED_PREFIX}${offsetSeconds}:${name}`;
}

/** Go's `time.LoadLocation` for a template argument: "", "UTC" and "Local" are UTC (deterministic); unknown zones are `undefined`. */
export function loadLocation(name: string): string | undefined {
  if (name === '' || name === 'UTC' || name === 'Local') return 'UTC';
  return zoneEntry(name) === null ? undefined : name;
}

function numericAbbreviation(offset: number): string {
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const h = Math.floor(abs / 3600);
  const m = Math.floor((abs % 3600) / 60);
  return sign + pad2(h) + (m === 0 ? '' : pad2(m));
}

const UTC_INFO: ZoneInfo = { offset: 0, abbr: 'UTC' };
const MS_PER_HOUR = 3_600_000;

/**
 * The UTC offset (seconds) and abbreviation of a zone at an instant. Intl is slow, so
 * each zone remembers one hour whose first and last second share an offset and name
 * (zone transitions are never closer together than that).
 */
export function zoneAt(zone: string, epochMs: number): ZoneInfo {
  if (zone === 'UTC' || zone === 'Local' || zone === '') return UTC_INFO;
  if (zone.startsWith(FIXED_PREFIX)) {
    const rest = zone.slice(FIXED_PREFIX.length);
    const colon = rest.indexOf(':');
    return { offset: Number(rest.slice(0, colon)), abbr: rest.slice(colon + 1) };
  }
  const entry = zoneEntry(zone);
  if (entry === null) return UTC_INFO;
  const hour = Math.floor(epochMs / MS_PER_HOUR) * MS_PER_HOUR;
  if (entry.hour === hour && entry.info) return entry.info;
  const start = lookupZone(entry, hour);
  const end = lookupZone(entry, hour + MS_PER_HOUR - 1000);
  if (start.offset === end.offset && start.abbr === end.abbr) {
    entry.hour = hour;
    entry.info = start;
    return start;
  }
  return lookupZone(entry, epochMs);
}

function lookupZone(entry: ZoneEntry, epochMs: number): ZoneInfo {
  let year = 0;
  let month = 1;
  let day = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let bc = false;
  let name = '';
  for (const part of entry.dtf.formatToParts(epochMs)) {
    switch (part.type) {
      case 'year':
        year = Number(part.value);
        break;
      case 'month':
        month = Number(part.value);
        break;
      case 'day':
        day = Number(part.value);
        break;
      case 'hour':
        hour = Number(part.value);
        break;
      case 'minute':
        minute = Number(part.value);
        break;
      case 'second':
        second = Number(part.value);
        break;
      case 'era':
        bc = part.value === 'BC' || part.value === 'B';
        break;
      case 'timeZoneName':
        name = part.value;
        break;
      default:
    }
  }
  if (bc) year = 1 - year;
  const localSeconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  const offset = localSeconds - Math.floor(epochMs / 1000);
  let abbr = entry.abbreviations?.[offset];
  if (abbr === undefined) {
    if (offset % 60 !== 0) abbr = 'LMT';
    else if (/^[A-Z]{2,5}$/.test(name) && !(name === 'UTC' && offset !== 0)) abbr = name;
    else abbr = numericAbbreviation(offset);
  }
  return { offset, abbr };
}

// ---------------------------------------------------------------------------------
// Layouts

const LONG_MONTH = 1;
const MONTH = 2;
const NUM_MONTH = 3;
const ZERO_MONTH = 4;
const LONG_WEEKDAY = 5;
const WEEKDAY = 6;
const DAY = 7;
const UNDER_DAY = 8;
const ZERO_DAY = 9;
const UNDER_YEARDAY = 10;
const ZERO_YEARDAY = 11;
const HOUR = 12;
const HOUR12 = 13;
const ZERO_HOUR12 = 14;
const MINUTE = 15;
const ZERO_MINUTE = 16;
const SECOND = 17;
const ZERO_SECOND = 18;
const LONG_YEAR = 19;
const YEAR = 20;
const PM_UPPER = 21;
const PM_LOWER = 22;
const TZ = 23;
const ISO8601_TZ = 24;
const ISO8601_SECONDS_TZ = 25;
const ISO8601_SHORT_TZ = 26;
const ISO8601_COLON_TZ = 27;
const ISO8601_COLON_SECONDS_TZ = 28;
const NUM_TZ = 29;
const NUM_SECONDS_TZ = 30;
const NUM_SHORT_TZ = 31;
const NUM_COLON_TZ = 32;
const NUM_COLON_SECONDS_TZ = 33;
const FRAC_SECOND_0 = 34;
const FRAC_SECOND_9 = 35;

interface StdChunk {
  readonly code: number;
  /** Fractional-second digit count. */
  readonly digits: number;
  /** Fractional-second separator, "." or ",". */
  readonly sep: string;
}

type Chunk = string | StdChunk;

const ZERO_X = [ZERO_MONTH, ZERO_DAY, ZERO_HOUR12, ZERO_MINUTE, ZERO_SECOND, YEAR];

function std(code: number, digits = 0, sep = '.'): StdChunk {
  return { code, digits, sep };
}

function isDigitAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0x30 && c <= 0x39;
}

function startsWithLower(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0x61 && c <= 0x7a;
}

/** Finds the next reference-time element: returns [index, chunk, length] or undefined. */
function nextStd(layout: string, from: number): [number, StdChunk, number] | undefined {
  for (let i = from; i < layout.length; i++) {
    switch (layout[i]) {
      case 'J':
        if (layout.startsWith('Jan', i)) {
          if (layout.startsWith('January', i)) return [i, std(LONG_MONTH), 7];
          if (!startsWithLower(layout, i + 3)) return [i, std(MONTH), 3];
        }
        break;
      case 'M':
        if (layout.startsWith('Mon', i)) {
          if (layout.startsWith('Monday', i)) return [i, std(LONG_WEEKDAY), 6];
          if (!startsWithLower(layout, i + 3)) return [i, std(WEEKDAY), 3];
        }
        if (layout.startsWith('MST', i)) return [i, std(TZ), 3];
        break;
      case '0': {
        const c = layout.charCodeAt(i + 1);
        if (c >= 0x31 && c <= 0x36) return [i, std(ZERO_X[c - 0x31] ?? ZERO_MONTH), 2];
        if (layout.startsWith('002', i)) return [i, std(ZERO_YEARDAY), 3];
        break;
      }
      case '1':
        if (layout[i + 1] === '5') return [i, std(HOUR), 2];
        return [i, std(NUM_MONTH), 1];
      case '2':
        if (layout.startsWith('2006', i)) return [i, std(LONG_YEAR), 4];
        return [i, std(DAY), 1];
      case '_':
        if (layout[i + 1] === '2') {
          if (layout.startsWith('2006', i + 1)) return [i + 1, std(LONG_YEAR), 4];
          return [i, std(UNDER_DAY), 2];
        }
        if (layout.startsWith('__2', i)) return [i, std(UNDER_YEARDAY), 3];
        break;
      case '3':
        return [i, std(HOUR12), 1];
      case '4':
        return [i, std(MINUTE), 1];
      case '5':
        return [i, std(SECOND), 1];
      case 'P':
        if (layout[i + 1] === 'M') return [i, std(PM_UPPER), 2];
        break;
      case 'p':
        if (layout[i + 1] === 'm') return [i, std(PM_LOWER), 2];
        break;
      case '-':
        if (layout.startsWith('-070000', i)) return [i, std(NUM_SECONDS_TZ), 7];
        if (layout.startsWith('-07:00:00', i)) return [i, std(NUM_COLON_SECONDS_TZ), 9];
        if (layout.startsWith('-0700', i)) return [i, std(NUM_TZ), 5];
        if (layout.startsWith('-07:00', i)) return [i, std(NUM_COLON_TZ), 6];
        if (layout.startsWith('-07', i)) return [i, std(NUM_SHORT_TZ), 3];
        break;
      case 'Z':
        if (layout.startsWith('Z070000', i)) return [i, std(ISO8601_SECONDS_TZ), 7];
        if (layout.startsWith('Z07:00:00', i)) return [i, std(ISO8601_COLON_SECONDS_TZ), 9];
        if (layout.startsWith('Z0700', i)) return [i, std(ISO8601_TZ), 5];
        if (layout.startsWith('Z07:00', i)) return [i, std(ISO8601_COLON_TZ), 6];
        if (layout.startsWith('Z07', i)) return [i, std(ISO8601_SHORT_TZ), 3];
        break;
      case '.':
      case ',': {
        const ch = layout[i + 1];
        if (ch === '0' || ch === '9') {
          let j = i + 1;
          while (j < layout.length && layout[j] === ch) j++;
          if (!isDigitAt(layout, j)) {
            return [i, std(ch === '0' ? FRAC_SECOND_0 : FRAC_SECOND_9, j - (i + 1), layout[i]), j - i];
          }
        }
        break;
      }
      default:
    }
  }
  return undefined;
}

const LAYOUT_CACHE_LIMIT = 256;
const layoutCache = new Map<string, readonly Chunk[]>();

function chunks(layout: string): readonly Chunk[] {
  const cached = layoutCache.get(layout);
  if (cached) return cached;
  const out: Chunk[] = [];
  let pos = 0;
  for (;;) {
    const next = nextStd(layout, pos);
    if (!next) break;
    const [i, chunk, len] = next;
    if (i > pos) out.push(layout.slice(pos, i));
    out.push(chunk);
    pos = i + len;
  }
  if (pos < layout.length) out.push(layout.slice(pos));
  if (layoutCache.size >= LAYOUT_CACHE_LIMIT) layoutCache.clear();
  layoutCache.set(layout, out);
  return out;
}

const LONG_MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const LONG_DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const SHORT_MONTH_NAMES = LONG_MONTH_NAMES.map((m) => m.slice(0, 3));
const SHORT_DAY_NAMES = LONG_DAY_NAMES.map((d) => d.slice(0, 3));

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

function padInt(n: number, width: number, fill = '0'): string {
  const neg = n < 0;
  let s = String(Math.abs(n));
  if (s.length < width) s = fill.repeat(width - s.length) + s;
  return neg ? '-' + s : s;
}

/** The broken-down local time of a GoTime in its zone. */
interface Civil {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  nanos: number;
  weekday: number;
  yday: number;
  offset: number;
  abbr: string;
}

function civil(t: GoTime): Civil {
  const { offset, abbr } = zoneAt(t.zone, t.epochMs);
  const local = t.epochMs + offset * 1000;
  const days = Math.floor(local / MS_PER_DAY);
  const msOfDay = local - days * MS_PER_DAY;
  const { year, month, day } = civilFromDays(days);
  const secOfDay = Math.floor(msOfDay / 1000);
  return {
    year,
    month,
    day,
    hour: Math.floor(secOfDay / 3600),
    minute: Math.floor((secOfDay % 3600) / 60),
    second: secOfDay % 60,
    nanos: (msOfDay % 1000) * 1_000_000 + t.nanos,
    weekday: (((days + 4) % 7) + 7) % 7,
    yday: days - daysFromCivil(year, 1, 1) + 1,
    offset,
    abbr,
  };
}

function formatZone(code: number, offset: number): string {
  const iso = code === ISO8601_TZ || code === ISO8601_COLON_TZ || code === ISO8601_SECONDS_TZ || code === ISO8601_SHORT_TZ || code === ISO8601_COLON_SECONDS_TZ;
  if (offset === 0 && iso) return 'Z';
  let zone = Math.trunc(offset / 60);
  let abs = offset;
  let out: string;
  if (zone < 0) {
    out = '-';
    zone = -zone;
    abs = -abs;
  } else {
    out = '+';
  }
  out += pad2(Math.floor(zone / 60));
  const colon = code === ISO8601_COLON_TZ || code === NUM_COLON_TZ || code === ISO8601_COLON_SECONDS_TZ || code === NUM_COLON_SECONDS_TZ;
  if (colon) out += ':';
  if (code !== NUM_SHORT_TZ && code !== ISO8601_SHORT_TZ) out += pad2(zone % 60);
  if (code === ISO8601_SECONDS_TZ || code === NUM_SECONDS_TZ || code === NUM_COLON_SECONDS_TZ || code === ISO8601_COLON_SECONDS_TZ) {
    if (colon) out += ':';
    out += pad2(abs % 60);
  }
  return out;
}

/** Go's `Time.Format(layout)`. */
export function formatTime(t: GoTime, layout: string): string {
  const c = civil(t);
  let out = '';
  for (const chunk of chunks(layout)) {
    if (typeof chunk === 'string') {
      out += chunk;
      continue;
    }
    switch (chunk.code) {
      case YEAR:
        out += padInt(c.year % 100, 2);
        break;
      case LONG_YEAR:
        out += padInt(c.year, 4);
        break;
      case MONTH:
        out += SHORT_MONTH_NAMES[c.month - 1];
        break;
      case LONG_MONTH:
        out += LONG_MONTH_NAMES[c.month - 1];
        break;
      case NUM_MONTH:
        out += c.month;
        break;
      case ZERO_MONTH:
        out += pad2(c.month);
        break;
      case WEEKDAY:
        out += SHORT_DAY_NAMES[c.weekday];
        break;
      case LONG_WEEKDAY:
        out += LONG_DAY_NAMES[c.weekday];
        break;
      case DAY:
        out += c.day;
        break;
      case UNDER_DAY:
        out += padInt(c.day, 2, ' ');
        break;
      case ZERO_DAY:
        out += pad2(c.day);
        break;
      case UNDER_YEARDAY:
        out += padInt(c.yday, 3, ' ');
        break;
      case ZERO_YEARDAY:
        out += padInt(c.yday, 3);
        break;
      case HOUR:
        out += pad2(c.hour);
        break;
      case HOUR12:
        out += c.hour % 12 === 0 ? 12 : c.hour % 12;
        break;
      case ZERO_HOUR12:
        out += pad2(c.hour % 12 === 0 ? 12 : c.hour % 12);
        break;
      case MINUTE:
        out += c.minute;
        break;
      case ZERO_MINUTE:
        out += pad2(c.minute);
        break;
      case SECOND:
        out += c.second;
        break;
      case ZERO_SECOND:
        out += pad2(c.second);
        break;
      case PM_UPPER:
        out += c.hour >= 12 ? 'PM' : 'AM';
        break;
      case PM_LOWER:
        out += c.hour >= 12 ? 'pm' : 'am';
        break;
      case TZ:
        if (c.abbr !== '') out += c.abbr;
        else out += formatZone(NUM_TZ, c.offset);
        break;
      case FRAC_SECOND_0:
      case FRAC_SECOND_9: {
        const digits = String(c.nanos).padStart(9, '0').slice(0, Math.min(chunk.digits, 9));
        if (chunk.code === FRAC_SECOND_0) {
          out += chunk.sep + digits;
        } else {
          const trimmed = digits.replace(/0+$/, '');
          if (trimmed !== '') out += chunk.sep + trimmed;
        }
        break;
      }
      default:
        out += formatZone(chunk.code, c.offset);
    }
  }
  return out;
}

/** Go's `Time.String()` (without the monotonic-clock suffix). */
export function timeString(t: GoTime): string {
  return formatTime(t, '2006-01-02 15:04:05.999999999 -0700 MST');
}

/** RFC 3339 with nanoseconds, as Go's JSON encoding of a time. */
export function timeRfc3339Nano(t: GoTime): string {
  return formatTime(t, '2006-01-02T15:04:05.999999999Z07:00');
}

/** Go's zero `time.Time` (January 1, year 1, 00:00:00 UTC). */
export const ZERO_TIME = new GoTime(daysFromCivil(1, 1, 1) * MS_PER_DAY, 'UTC', 0);

/** A GoTime from a local wall clock in a zone with a known offset. */
function fromLocal(days: number, secOfDay: number, nsec: number, offset: number, zone: string): GoTime {
  const ms = days * MS_PER_DAY + (secOfDay - offset) * 1000 + Math.floor(nsec / 1_000_000);
  return new GoTime(ms, zone, nsec % 1_000_000);
}

function getNum(s: string, fixed: boolean): [number, string] | undefined {
  if (!isDigitAt(s, 0)) return undefined;
  if (!isDigitAt(s, 1)) {
    if (fixed) return undefined;
    return [s.charCodeAt(0) - 0x30, s.slice(1)];
  }
  return [(s.charCodeAt(0) - 0x30) * 10 + (s.charCodeAt(1) - 0x30), s.slice(2)];
}

function getNum3(s: string, fixed: boolean): [number, string] | undefined {
  let n = 0;
  let i = 0;
  for (; i < 3 && isDigitAt(s, i); i++) n = n * 10 + s.charCodeAt(i) - 0x30;
  if (i === 0 || (fixed && i !== 3)) return undefined;
  return [n, s.slice(i)];
}

function lookup(names: readonly string[], s: string): [number, string] | undefined {
  for (let i = 0; i < names.length; i++) {
    const name = names[i] ?? '';
    if (s.length >= name.length && s.slice(0, name.length).toLowerCase() === name.toLowerCase()) return [i, s.slice(name.length)];
  }
  return undefined;
}

function cutSpace(s: string): string {
  let i = 0;
  while (s[i] === ' ') i++;
  return s.slice(i);
}

function skip(value: string, prefix: string): string | undefined {
  let v = value;
  let p = prefix;
  while (p.length > 0) {
    if (p[0] === ' ') {
      if (v.length > 0 && v[0] !== ' ') return undefined;
      p = cutSpace(p);
      v = cutSpace(v);
      continue;
    }
    if (v.length === 0 || v[0] !== p[0]) return undefined;
    p = p.slice(1);
    v = v.slice(1);
  }
  return v;
}

function parseSignedOffset(value: string): number {
  const sign = value[0];
  if (sign !== '-' && sign !== '+') return 0;
  let i = 1;
  let x = 0;
  while (isDigitAt(value, i)) {
    x = x * 10 + value.charCodeAt(i) - 0x30;
    i++;
  }
  if (i === 1 || x > 12) return 0;
  return i;
}

function parseTimeZone(value: string): number {
  if (value.length < 3) return 0;
  if (value.startsWith('ChST') || value.startsWith('MeST')) return 4;
  if (value.startsWith('GMT')) return 3 + (value.length > 3 ? parseSignedOffset(value.slice(3)) : 0);
  if (value[0] === '+' || value[0] === '-') return parseSignedOffset(value);
  let upper = 0;
  while (upper < 6 && upper < value.length && value[upper]! >= 'A' && value[upper]! <= 'Z') upper++;
  switch (upper) {
    case 3:
      return 3;
    case 4:
      return value[3] === 'T' || value.startsWith('WITA') ? 4 : 0;
    case 5:
      return value[4] === 'T' ? 5 : 0;
    default:
      return 0;
  }
}

function parseNanos(value: string, nbytes: number): number | undefined {
  if (value[0] !== '.' && value[0] !== ',') return undefined;
  const n = Math.min(nbytes, 10);
  const digits = value.slice(1, n);
  if (!/^\d+$/.test(digits)) return undefined;
  return Number(digits) * 10 ** (10 - n);
}

function nextStdChunk(list: readonly Chunk[], from: number): StdChunk | undefined {
  for (let i = from; i < list.length; i++) {
    const c = list[i];
    if (c !== undefined && typeof c !== 'string') return c;
  }
  return undefined;
}

/**
 * Go's `time.ParseInLocation(layout, value, UTC)`; `undefined` when the value does not
 * match the layout (Sprig's toDate then yields the zero time).
 */
export function parseTime(layout: string, value: string): GoTime | undefined {
  let v = value;
  let year = 0;
  let month = -1;
  let day = -1;
  let yday = -1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let nsec = 0;
  let pmSet = false;
  let amSet = false;
  let utc = false;
  let zoneOffset: number | undefined;
  let zoneName = '';
  const list = chunks(layout);
  for (let ci = 0; ci < list.length; ci++) {
    const chunk = list[ci]!;
    if (typeof chunk === 'string') {
      const rest = skip(v, chunk);
      if (rest === undefined) return undefined;
      v = rest;
      continue;
    }
    let r: [number, string] | undefined;
    switch (chunk.code) {
      case YEAR: {
        if (v.length < 2 || !/^\d\d/.test(v)) return undefined;
        year = Number(v.slice(0, 2));
        year += year >= 69 ? 1900 : 2000;
        v = v.slice(2);
        break;
      }
      case LONG_YEAR:
        if (v.length < 4 || !/^\d{4}/.test(v)) return undefined;
        year = Number(v.slice(0, 4));
        v = v.slice(4);
        break;
      case MONTH:
      case LONG_MONTH:
        r = lookup(chunk.code === MONTH ? SHORT_MONTH_NAMES : LONG_MONTH_NAMES, v);
        if (!r) return undefined;
        month = r[0] + 1;
        v = r[1];
        break;
      case NUM_MONTH:
      case ZERO_MONTH:
        r = getNum(v, chunk.code === ZERO_MONTH);
        if (!r || r[0] <= 0 || r[0] > 12) return undefined;
        [month, v] = r;
        break;
      case WEEKDAY:
      case LONG_WEEKDAY:
        r = lookup(chunk.code === WEEKDAY ? SHORT_DAY_NAMES : LONG_DAY_NAMES, v);
        if (!r) return undefined;
        v = r[1];
        break;
      case DAY:
      case UNDER_DAY:
      case ZERO_DAY:
        if (chunk.code === UNDER_DAY && v[0] === ' ') v = v.slice(1);
        r = getNum(v, chunk.code === ZERO_DAY);
        if (!r) return undefined;
        [day, v] = r;
        break;
      case UNDER_YEARDAY:
      case ZERO_YEARDAY:
        for (let i = 0; i < 2; i++) if (chunk.code === UNDER_YEARDAY && v[0] === ' ') v = v.slice(1);
        r = getNum3(v, chunk.code === ZERO_YEARDAY);
        if (!r) return undefined;
        [yday, v] = r;
        break;
      case HOUR:
        r = getNum(v, false);
        if (!r || r[0] >= 24) return undefined;
        [hour, v] = r;
        break;
      case HOUR12:
      case ZERO_HOUR12:
        r = getNum(v, chunk.code === ZERO_HOUR12);
        if (!r || r[0] > 12) return undefined;
        [hour, v] = r;
        break;
      case MINUTE:
      case ZERO_MINUTE:
        r = getNum(v, chunk.code === ZERO_MINUTE);
        if (!r || r[0] >= 60) return undefined;
        [minute, v] = r;
        break;
      case SECOND:
      case ZERO_SECOND: {
        r = getNum(v, chunk.code === ZERO_SECOND);
        if (!r || r[0] >= 60) return undefined;
        [second, v] = r;
        const next = nextStdChunk(list, ci + 1);
        const layoutHasFraction = next !== undefined && (next.code === FRAC_SECOND_0 || next.code === FRAC_SECOND_9);
        if (v.length >= 2 && (v[0] === '.' || v[0] === ',') && isDigitAt(v, 1) && !layoutHasFraction) {
          let n = 2;
          while (n < v.length && isDigitAt(v, n)) n++;
          const ns = parseNanos(v, n);
          if (ns === undefined) return undefined;
          nsec = ns;
          v = v.slice(n);
        }
        break;
      }
      case PM_UPPER:
      case PM_LOWER: {
        const p = v.slice(0, 2);
        const [pm, am] = chunk.code === PM_UPPER ? ['PM', 'AM'] : ['pm', 'am'];
        if (p === pm) pmSet = true;
        else if (p === am) amSet = true;
        else return undefined;
        v = v.slice(2);
        break;
      }
      case TZ: {
        if (v.startsWith('UTC')) {
          utc = true;
          v = v.slice(3);
          break;
        }
        const n = parseTimeZone(v);
        if (n === 0) return undefined;
        zoneName = v.slice(0, n);
        v = v.slice(n);
        break;
      }
      case FRAC_SECOND_0: {
        const n = 1 + chunk.digits;
        if (v.length < n) return undefined;
        const ns = parseNanos(v, n);
        if (ns === undefined) return undefined;
        nsec = ns;
        v = v.slice(n);
        break;
      }
      case FRAC_SECOND_9: {
        if (v.length < 2 || (v[0] !== '.' && v[0] !== ',') || !isDigitAt(v, 1)) break;
        let i = 1;
        while (isDigitAt(v, i)) i++;
        const ns = parseNanos(v, i);
        if (ns === undefined) return undefined;
        nsec = ns;
        v = v.slice(i);
        break;
      }
      default: {
        const code = chunk.code;
        const iso = code >= ISO8601_TZ && code <= ISO8601_COLON_SECONDS_TZ;
        if (iso && v[0] === 'Z') {
          v = v.slice(1);
          utc = true;
          break;
        }
        let m: RegExpExecArray | null;
        if (code === ISO8601_COLON_TZ || code === NUM_COLON_TZ) m = /^([-+])(\d\d):(\d\d)()/.exec(v);
        else if (code === NUM_SHORT_TZ || code === ISO8601_SHORT_TZ) m = /^([-+])(\d\d)()()/.exec(v);
        else if (code === ISO8601_COLON_SECONDS_TZ || code === NUM_COLON_SECONDS_TZ) m = /^([-+])(\d\d):(\d\d):(\d\d)/.exec(v);
        else if (code === ISO8601_SECONDS_TZ || code === NUM_SECONDS_TZ) m = /^([-+])(\d\d)(\d\d)(\d\d)/.exec(v);
        else m = /^([-+])(\d\d)(\d\d)()/.exec(v);
        if (!m) return undefined;
        const hh = Number(m[2]);
        const mm = Number(m[3] || 0);
        const ss = Number(m[4] || 0);
        if (hh > 24 || mm > 60 || ss > 60) return undefined;
        zoneOffset = (hh * 60 + mm) * 60 + ss;
        if (m[1] === '-') zoneOffset = -zoneOffset;
        v = v.slice(m[0].length);
      }
    }
  }
  if (v.length > 0) return undefined;
  if (pmSet && hour < 12) hour += 12;
  else if (amSet && hour === 12) hour = 0;
  if (yday >= 0) {
    if (yday < 1 || yday > (isLeap(year) ? 366 : 365)) return undefined;
    const d = civilFromDays(daysFromCivil(year, 1, 1) + yday - 1);
    if (month >= 0 && month !== d.month) return undefined;
    if (day >= 0 && day !== d.day) return undefined;
    month = d.month;
    day = d.day;
  } else {
    if (month < 0) month = 1;
    if (day < 0) day = 1;
  }
  if (day < 1 || day > daysIn(month, year)) return undefined;
  const days = daysFromCivil(year, month, day);
  const secOfDay = (hour * 60 + minute) * 60 + second;
  if (utc) return fromLocal(days, secOfDay, nsec, 0, 'UTC');
  if (zoneOffset !== undefined) {
    const zone = zoneOffset === 0 && (zoneName === '' || zoneName === 'UTC') ? 'UTC' : fixedZone(zoneName, zoneOffset);
    return fromLocal(days, secOfDay, nsec, zoneOffset, zone);
  }
  if (zoneName !== '') {
    let offset = 0;
    if (zoneName.length > 3 && zoneName.startsWith('GMT')) offset = Number(zoneName.slice(3)) * 3600;
    return fromLocal(days, secOfDay, nsec, 0, fixedZone(zoneName, offset));
  }
  return fromLocal(days, secOfDay, nsec, 0, 'UTC');
}

/** A GoTime moved to another zone (same instant). */
export function inZone(t: GoTime, zone: string): GoTime {
  return t.zone === zone ? t : new GoTime(t.epochMs, zone, t.nanos);
}

/** A GoTime plus a number of nanoseconds. */
export function addNanos(t: GoTime, d: bigint): GoTime {
  const total = BigInt(t.epochMs) * 1_000_000n + BigInt(t.nanos) + d;
  let ms = total / 1_000_000n;
  let ns = total % 1_000_000n;
  if (ns < 0n) {
    ns += 1_000_000n;
    ms -= 1n;
  }
  return new GoTime(Number(ms), t.zone, Number(ns));
}

// ---------------------------------------------------------------------------------
// Durations

function fracString(v: bigint, prec: number): [string, bigint] {
  let digits = '';
  let printed = false;
  let rest = v;
  for (let i = 0; i < prec; i++) {
    const digit = rest % 10n;
    printed ||= digit !== 0n;
    if (printed) digits = String(digit) + digits;
    rest /= 10n;
  }
  return [printed ? '.' + digits : '', rest];
}

/** Go's `Duration.String()`: "1h2m3.5s", "1.5ms", "0s". */
export function durationString(nanoseconds: bigint): string {
  if (nanoseconds === 0n) return '0s';
  const neg = nanoseconds < 0n;
  let u = neg ? -nanoseconds : nanoseconds;
  let out: string;
  if (u < 1_000_000_000n) {
    let prec: number;
    let unit: string;
    if (u < 1_000n) {
      prec = 0;
      unit = 'ns';
    } else if (u < 1_000_000n) {
      prec = 3;
      unit = 'µs';
    } else {
      prec = 6;
      unit = 'ms';
    }
    const [frac, whole] = fracString(u, prec);
    out = String(whole) + frac + unit;
  } else {
    const [frac, whole] = fracString(u, 9);
    u = whole;
    out = String(u % 60n) + frac + 's';
    u /= 60n;
    if (u > 0n) {
      out = String(u % 60n) + 'm' + out;
      u /= 60n;
      if (u > 0n) out = String(u) + 'h' + out;
    }
  }
  return neg ? '-' + out : out;
}

const UNITS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n,
  'μs': 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const MAX_DURATION = 2n ** 63n;

/** Go's `time.ParseDuration`; throws with Go's message on a malformed string. */
export function parseDuration(orig: string): bigint {
  const invalid = (): Error => new Error(`time: invalid duration ${JSON.stringify(orig)}`);
  let s = orig;
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw invalid();
  let d = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || isDigitAt(s, 0))) throw invalid();
    let i = 0;
    let v = 0n;
    while (isDigitAt(s, i)) {
      v = v * 10n + BigInt(s.charCodeAt(i) - 0x30);
      if (v >= MAX_DURATION) throw invalid();
      i++;
    }
    const pre = i > 0;
    s = s.slice(i);
    let f = 0;
    let scale = 1;
    let post = false;
    if (s[0] === '.') {
      s = s.slice(1);
      let j = 0;
      let overflow = false;
      while (isDigitAt(s, j)) {
        if (!overflow) {
          const next = f * 10 + (s.charCodeAt(j) - 0x30);
          if (next > Number.MAX_SAFE_INTEGER) overflow = true;
          else {
            f = next;
            scale *= 10;
          }
        }
        j++;
      }
      post = j > 0;
      s = s.slice(j);
    }
    if (!pre && !post) throw invalid();
    let u = 0;
    while (u < s.length && !(s[u] === '.' || isDigitAt(s, u))) u++;
    if (u === 0) throw new Error(`time: missing unit in duration ${JSON.stringify(orig)}`);
    const unitName = s.slice(0, u);
    s = s.slice(u);
    const unit = UNITS[unitName];
    if (unit === undefined) throw new Error(`time: unknown unit ${JSON.stringify(unitName)} in duration ${JSON.stringify(orig)}`);
    if (v > MAX_DURATION / unit) throw invalid();
    v *= unit;
    if (f > 0) {
      v += BigInt(Math.trunc(f * (Number(unit) / scale)));
      if (v > MAX_DURATION) throw invalid();
    }
    d += v;
    if (d > MAX_DURATION) throw invalid();
  }
  if (neg) return -d;
  if (d > MAX_DURATION - 1n) throw invalid();
  return d;
}
