// Sprig's date functions with Go reference-time layouts. The "local" zone is UTC so
// output never depends on the host: `now` is in UTC, and `date` formats a time in the
// zone it carries.
import { GoDuration, GoTime } from '../values.js';
import type { TemplateValue } from '../values.js';
import type { Definitions } from './define.js';
import { FunctionError } from './errors.js';
import { argString, argTime, isGoInt } from './kinds.js';
import { addNanos, durationString, formatTime, inZone, loadLocation, parseDuration, parseTime, ZERO_TIME } from './time.js';

const GO_TIME_STRING = '2006-01-02 15:04:05.999999999 -0700 MST';
const RFC3339 = '2006-01-02T15:04:05Z07:00';
const MONOTONIC_SUFFIX = / m=[-+]\d+\.\d+$/;

/**
 * Sprig's date argument: a time, or an integer of Unix seconds; anything else means
 * "now". A string in Go's `Time.String()` or RFC 3339 form is also read as that time
 * (gjson_template hands times to functions as strings).
 */
function dateArg(v: TemplateValue): GoTime {
  if (v instanceof GoTime) return v;
  if (typeof v === 'number' && isGoInt(v)) return new GoTime(v * 1000, 'UTC', 0);
  if (typeof v === 'string') {
    const s = v.replace(MONOTONIC_SUFFIX, '');
    const t = parseTime(GO_TIME_STRING, s) ?? parseTime(RFC3339, s);
    if (t) return t;
  }
  return now();
}

function now(): GoTime {
  return new GoTime(Date.now(), 'UTC', 0);
}

function dateInZone(layout: TemplateValue, date: TemplateValue, zone: TemplateValue): string {
  const fmt = argString(layout);
  const loc = loadLocation(argString(zone)) ?? 'UTC';
  return formatTime(inZone(dateArg(date), loc), fmt);
}

function dateModify(change: TemplateValue, date: TemplateValue, must: boolean): GoTime {
  const s = argString(change);
  const t = argTime(date);
  try {
    return addNanos(t, parseDuration(s));
  } catch (e) {
    if (must) throw new FunctionError((e as Error).message);
    return t;
  }
}

function duration(sec: TemplateValue): string {
  let n = 0n;
  if (typeof sec === 'number' && isGoInt(sec)) n = BigInt(sec);
  else if (typeof sec === 'string' && /^[+-]?\d+$/.test(sec)) n = BigInt(sec);
  return durationString(n * 1_000_000_000n);
}

const SECOND = 1_000_000_000n;
const ROUND_UNITS: readonly [bigint, string][] = [
  [SECOND * 86_400n * 365n, 'y'],
  [SECOND * 86_400n * 30n, 'mo'],
  [SECOND * 86_400n, 'd'],
  [SECOND * 3_600n, 'h'],
  [SECOND * 60n, 'm'],
  [SECOND, 's'],
];

function durationRound(v: TemplateValue): string {
  let d = 0n;
  if (typeof v === 'string') {
    try {
      d = parseDuration(v);
    } catch {
      d = 0n;
    }
  } else if (typeof v === 'number' && isGoInt(v)) {
    d = BigInt(v);
  } else if (v instanceof GoDuration) {
    d = BigInt(Math.trunc(v.nanoseconds));
  } else if (v instanceof GoTime) {
    d = (BigInt(Date.now()) - BigInt(v.epochMs)) * 1_000_000n - BigInt(v.nanos);
  }
  const u = d < 0n ? -d : d;
  for (const [unit, suffix] of ROUND_UNITS) if (u > unit) return String(u / unit) + suffix;
  return '0s';
}

/** Sprig's date functions. */
export const DATE_FUNCTIONS: Definitions = {
  now: [0, 0, now],
  date: [2, 2, (layout, d) => formatTime(dateArg(d), argString(layout))],
  dateInZone: [3, 3, dateInZone],
  date_in_zone: [3, 3, dateInZone],
  htmlDate: [1, 1, (d) => formatTime(dateArg(d), '2006-01-02')],
  htmlDateInZone: [2, 2, (d, zone) => dateInZone('2006-01-02', d, zone)],
  toDate: [2, 2, (layout, s) => parseTime(argString(layout), argString(s)) ?? ZERO_TIME],
  dateModify: [2, 2, (c, d) => dateModify(c, d, false)],
  date_modify: [2, 2, (c, d) => dateModify(c, d, false)],
  mustDateModify: [2, 2, (c, d) => dateModify(c, d, true)],
  unixEpoch: [1, 1, (t) => String(Math.floor(argTime(t).epochMs / 1000))],
  duration: [1, 1, duration],
  durationRound: [1, 1, durationRound],
};
