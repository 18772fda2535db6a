import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GoDuration, GoTime } from '../values.js';
import type { TemplateValue } from '../values.js';
import { FUNCTIONS, FunctionError, printValue } from './index.js';

function call(fn: string, ...args: TemplateValue[]): TemplateValue {
  const f = FUNCTIONS.get(fn);
  assert.ok(f, `no function ${fn}`);
  return f(...args);
}

/** 2024-01-15 12:30:45.123456789 UTC, a Monday (winter in the north). */
const WINTER = new GoTime(Date.UTC(2024, 0, 15, 12, 30, 45, 123), 'UTC', 456789);
/** 2024-07-04 16:05:09 UTC, a Thursday (summer in the north), day 186 of a leap year. */
const SUMMER = new GoTime(Date.UTC(2024, 6, 4, 16, 5, 9));

interface FormatCase {
  layout: string;
  time: TemplateValue;
  zone?: string;
  want: string;
}

describe('Go layouts: formatting (date / dateInZone)', () => {
  const cases: FormatCase[] = [
    { layout: '2006-01-02T15:04:05.000000000Z07:00', time: WINTER, want: '2024-01-15T12:30:45.123456789Z' },
    { layout: 'Monday, 2006-01-02 15:04:05', time: WINTER, zone: 'Asia/Shanghai', want: 'Monday, 2024-01-15 20:30:45' },
    { layout: 'Mon Jan _2 15:04:05 MST 2006', time: WINTER, zone: 'America/New_York', want: 'Mon Jan 15 07:30:45 EST 2024' },
    { layout: '3:04PM MST -0700', time: SUMMER, zone: 'America/New_York', want: '12:05PM EDT -0400' },
    { layout: '-07:00 MST', time: WINTER, zone: 'Asia/Kolkata', want: '+05:30 IST' },
    { layout: 'MST Z0700 Z07', time: WINTER, zone: 'Asia/Kathmandu', want: '+0545 +0545 +05' },
    { layout: 'MST', time: SUMMER, zone: 'Europe/Berlin', want: 'CEST' },
    { layout: 'MST', time: WINTER, zone: 'Europe/Berlin', want: 'CET' },
    { layout: 'MST -07', time: SUMMER, zone: 'Europe/London', want: 'BST +01' },
    { layout: 'MST', time: WINTER, zone: 'Europe/London', want: 'GMT' },
    { layout: '2006-01-02 15:04 MST Z07:00', time: WINTER, zone: 'Australia/Sydney', want: '2024-01-15 23:30 AEDT +11:00' },
    { layout: '15:04 MST', time: WINTER, zone: 'Asia/Tokyo', want: '21:30 JST' },
    { layout: '15:04 MST', time: WINTER, zone: 'America/Sao_Paulo', want: '09:30 -03' },
    { layout: '15:04 MST', time: WINTER, zone: 'America/Los_Angeles', want: '04:30 PST' },
    { layout: '15:04 MST', time: WINTER, zone: 'Mars/Olympus', want: '12:30 UTC' },
    { layout: '15:04 MST', time: WINTER, zone: 'Local', want: '12:30 UTC' },
    { layout: 'Jan January 1 01 Mon Monday 2 _2 02 __2 002', time: SUMMER, want: 'Jul July 7 07 Thu Thursday 4  4 04 186 186' },
    { layout: '15 3 03 4 04 5 05 PM pm 06 2006', time: SUMMER, want: '16 4 04 5 05 9 09 PM pm 24 2024' },
    { layout: '3:04:05 PM', time: new GoTime(Date.UTC(2024, 0, 1, 0, 5, 0)), want: '12:05:00 AM' },
    { layout: '.000 .999 ,000 .9 .000000', time: new GoTime(Date.UTC(2024, 0, 1, 0, 0, 0, 120)), want: '.120 .12 ,120 .1 .120000' },
    { layout: 'x.999x', time: new GoTime(Date.UTC(2024, 0, 1)), want: 'xx' },
    { layout: 'Z07:00:00|-070000|Z', time: WINTER, zone: 'Asia/Kolkata', want: '+05:30:00|+053000|Z' },
    { layout: 'January is Jan, not Janet', time: WINTER, want: 'January is Jan, not Janet' },
    { layout: '2006', time: call('toDate', '2006-01-02', '0033-03-04'), want: '0033' },
    { layout: '2006-01-02 15:04', time: 1700000000, want: '2023-11-14 22:13' },
    { layout: '2006-01-02 15:04 MST', time: new GoTime(Date.UTC(2024, 0, 15, 12), 'Asia/Shanghai'), want: '2024-01-15 20:00 CST' },
    { layout: '2006-01-02 15:04:05', time: '2024-01-15 20:30:45.5 +0800 CST', want: '2024-01-15 20:30:45' },
    { layout: 'Jan 02, 2006 at 15:04:05', time: '2024-01-15 12:30:45 +0000 UTC m=+0.001', zone: 'Asia/Tokyo', want: 'Jan 15, 2024 at 21:30:45' },
  ];
  cases.forEach((c, i) => {
    it(`${i}: ${c.layout} ${c.zone ?? ''}`, () => {
      const got = c.zone === undefined ? call('date', c.layout, c.time) : call('dateInZone', c.layout, c.time, c.zone);
      assert.equal(got, c.want);
    });
  });

  it('htmlDate and htmlDateInZone', () => {
    assert.equal(call('htmlDate', WINTER), '2024-01-15');
    assert.equal(call('htmlDateInZone', new GoTime(Date.UTC(2024, 0, 15, 20)), 'Asia/Tokyo'), '2024-01-16');
  });

  it('dateInZone with `now` is the current wall clock of the zone', () => {
    const got = call('dateInZone', '2006-01-02 15:04', call('now'), 'Asia/Shanghai') as string;
    const expected = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 16).replace('T', ' ');
    const alt = new Date(Date.now() + 8 * 3600_000 - 60_000).toISOString().slice(0, 16).replace('T', ' ');
    assert.ok(got === expected || got === alt, got);
  });

  it('a date argument that is neither time nor integer means now (Sprig)', () => {
    assert.equal(call('date', '2006', 'not a time'), String(new Date().getUTCFullYear()));
  });
});

describe('Go layouts: parsing (toDate)', () => {
  const cases: [string, string, string][] = [
    ['2006-01-02', '2024-05-01', '2024-05-01 00:00:00 +0000 UTC'],
    ['2006-01-02 15:04', '2024-05-01 10:30', '2024-05-01 10:30:00 +0000 UTC'],
    ['02/01/2006 3:04PM', '15/01/2024 2:05PM', '2024-01-15 14:05:00 +0000 UTC'],
    ['02/01/2006 3:04PM', '15/01/2024 12:05AM', '2024-01-15 00:05:00 +0000 UTC'],
    ['2006-01-02T15:04:05Z07:00', '2024-05-01T10:30:00+08:00', '2024-05-01 10:30:00 +0800 +0800'],
    ['2006-01-02T15:04:05Z07:00', '2024-05-01T10:30:00Z', '2024-05-01 10:30:00 +0000 UTC'],
    ['2006-01-02T15:04:05Z07:00', '2024-05-01T10:30:00.123456789Z', '2024-05-01 10:30:00.123456789 +0000 UTC'],
    ['2006-01-02 15:04:05.000', '2024-05-01 10:30:00.123', '2024-05-01 10:30:00.123 +0000 UTC'],
    ['2006-01-02 15:04:05', '2024-05-01 10:30:00.5', '2024-05-01 10:30:00.5 +0000 UTC'],
    ['Jan 2, 2006', 'feb 3, 2024', '2024-02-03 00:00:00 +0000 UTC'],
    ['Monday, 02-Jan-06 15:04:05 MST', 'Friday, 03-May-24 08:00:00 PDT', '2024-05-03 08:00:00 +0000 PDT'],
    ['2006-01-02 15:04:05 -0700 MST', '2024-05-03 08:00:00 -0700 PDT', '2024-05-03 08:00:00 -0700 PDT'],
    ['2006-01-02 MST', '2024-01-02 UTC', '2024-01-02 00:00:00 +0000 UTC'],
    ['2006-01-02 MST', '2024-01-02 GMT+8', '2024-01-02 08:00:00 +0800 GMT+8'],
    ['15:04', '10:30', '0000-01-01 10:30:00 +0000 UTC'],
    ['2006-002', '2024-060', '2024-02-29 00:00:00 +0000 UTC'],
    ['_2 Jan 06', ' 5 Mar 24', '2024-03-05 00:00:00 +0000 UTC'],
    ['2006-01-02  15:04', '2024-01-02 15:04', '2024-01-02 15:04:00 +0000 UTC'],
    ['2006-01-02', '2024-02-30', '0001-01-01 00:00:00 +0000 UTC'],
    ['2006-01-02', '2024-13-01', '0001-01-01 00:00:00 +0000 UTC'],
    ['2006-01-02', '2024-05-01 extra', '0001-01-01 00:00:00 +0000 UTC'],
    ['2006-01-02', '24-05-01', '0001-01-01 00:00:00 +0000 UTC'],
    ['15:04', '25:00', '0001-01-01 00:00:00 +0000 UTC'],
  ];
  cases.forEach(([layout, value, want], i) => {
    it(`${i}: ${layout} ← ${value}`, () => assert.equal(printValue(call('toDate', layout, value)), want));
  });

  it('round-trips through unixEpoch', () => {
    assert.equal(call('unixEpoch', call('toDate', '2006-01-02', '2024-01-01')), '1704067200');
    assert.equal(call('unixEpoch', WINTER), '1705321845');
    assert.equal(call('unixEpoch', call('toDate', '2006-01-02 15:04:05.0', '1969-12-31 23:59:59.5')), '-1');
  });

  it('unixEpoch needs a time', () => {
    assert.throws(() => call('unixEpoch', 5), (e: unknown) => e instanceof FunctionError && e.message === 'wrong type for value; expected time.Time; got int');
  });
});

describe('dateModify, duration, durationRound, now', () => {
  const modify: [string, string][] = [
    ['-1.5h', '2024-01-15 11:00:45.123456789 +0000 UTC'],
    ['1h30m15.5s', '2024-01-15 14:01:00.623456789 +0000 UTC'],
    ['+500ms', '2024-01-15 12:30:45.623456789 +0000 UTC'],
    ['-456789ns', '2024-01-15 12:30:45.123 +0000 UTC'],
    ['2µs', '2024-01-15 12:30:45.123458789 +0000 UTC'],
    ['0', '2024-01-15 12:30:45.123456789 +0000 UTC'],
    ['bad', '2024-01-15 12:30:45.123456789 +0000 UTC'],
    ['5', '2024-01-15 12:30:45.123456789 +0000 UTC'],
  ];
  modify.forEach(([change, want], i) => {
    it(`${i}: dateModify ${change}`, () => assert.equal(printValue(call('dateModify', change, WINTER)), want));
  });

  it('dateModify keeps the zone', () => {
    assert.equal(call('date', '15:04 MST', call('dateModify', '2h', new GoTime(WINTER.epochMs, 'Asia/Shanghai'))), '22:30 CST');
  });

  it("mustDateModify reports Go's duration errors", () => {
    const cases: [string, string][] = [
      ['bad', 'time: invalid duration "bad"'],
      ['5', 'time: missing unit in duration "5"'],
      ['5d', 'time: unknown unit "d" in duration "5d"'],
      ['', 'time: invalid duration ""'],
    ];
    for (const [change, message] of cases) {
      assert.throws(() => call('mustDateModify', change, WINTER), (e: unknown) => e instanceof FunctionError && e.message === message);
    }
  });

  const durations: [TemplateValue, string][] = [
    [3725, '1h2m5s'],
    ['90', '1m30s'],
    [0, '0s'],
    [-61, '-1m1s'],
    [100000000, '27777h46m40s'],
    [1.5, '0s'],
    ['abc', '0s'],
  ];
  durations.forEach(([sec, want]) => {
    it(`duration ${JSON.stringify(sec)} is ${want}`, () => assert.equal(call('duration', sec), want));
  });

  const rounded: [TemplateValue, string][] = [
    ['2h10m', '2h'],
    ['1s', '0s'],
    ['-90s', '1m'],
    [`${40 * 24}h`, '1mo'],
    [`${400 * 24}h`, '1y'],
    [90_000_000_000, '1m'],
    [new GoDuration(3 * 86_400e9 + 1), '3d'],
    ['junk', '0s'],
  ];
  rounded.forEach(([d, want]) => {
    it(`durationRound ${JSON.stringify(d)} is ${want}`, () => assert.equal(call('durationRound', d), want));
  });

  it('now is the current instant in UTC', () => {
    const t = call('now');
    assert.ok(t instanceof GoTime);
    assert.equal(t.zone, 'UTC');
    assert.ok(Math.abs(t.epochMs - Date.now()) < 5000);
  });

  it('toDate of a bad value is the zero time, which is not empty', () => {
    const zero = call('toDate', '2006-01-02', 'nope');
    assert.equal(call('empty', zero), false);
    assert.equal(call('date', '2006-01-02 MST', zero), '0001-01-01 UTC');
  });
});
