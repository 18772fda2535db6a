import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ActivityRecorder, credentialMasker, redact } from './activity.js';
import { MAX_REPORT_SAMPLED_TOOLS, MAX_REPORT_SAMPLES_PER_TOOL, MAX_SAMPLE_CHARS, MINUTE_MS, UNKNOWN_AGENT } from '../model/activity.js';

const t0 = 1_700_000_040_000 - (1_700_000_040_000 % MINUTE_MS);
const call = (over: Partial<Parameters<ActivityRecorder['record']>[0]> = {}) => ({ namespace: 'public', server: 'weather', tool: 'forecast', ok: true, ms: 12, at: t0 + 1000, ...over });

describe('ActivityRecorder', () => {
  it('counts calls per tool and minute with errors by kind, latency and agents; take() empties it', () => {
    const r = new ActivityRecorder({ gateway: 'gw-1' });
    r.record(call({ agent: { name: 'claude-code', version: '2.0' } }));
    r.record(call({ ok: false, kind: 'backend_status', ms: 300, agent: { name: 'claude-code', version: '2.0' } }));
    r.record(call({ at: t0 + MINUTE_MS + 5, agent: undefined }));
    const report = r.take()!;
    assert.equal(report.buckets.length, 2);
    const [first, second] = report.buckets;
    assert.deepEqual([first!.minute, first!.calls, first!.errors, first!.kinds], [t0, 2, 1, { backend_status: 1 }]);
    assert.deepEqual(first!.agents, [{ name: 'claude-code', version: '2.0', calls: 2 }]);
    assert.equal(first!.latency.reduce((a, b) => a + b, 0), 2);
    assert.equal(first!.latencySumMs, 312);
    assert.deepEqual(second!.agents, [{ name: UNKNOWN_AGENT, version: '', calls: 1 }]);
    assert.equal(r.take(), undefined);
  });

  it('keeps redacted, bounded samples of failures: secrets by name, mcpgate keys, the agent\'s credential headers', () => {
    const r = new ActivityRecorder({ gateway: 'gw-1' });
    const bearer = 'eyJhbGciOi.secret-jwt-value';
    r.record(call({
      ok: false, kind: 'backend_status', agent: { name: 'a', version: '1' },
      failure: {
        arguments: { city: 'Paris', apiKey: 'k-123456', nested: { password: 'hunter2', note: `token is ${bearer}` }, key: 'mgk_abcdef', big: 'x'.repeat(10_000) },
        answer: { content: [{ type: 'text', text: `backend said 401 for Bearer ${bearer}` }], isError: true },
        message: `backend said 401 for Bearer ${bearer}`,
        clientHeaders: { authorization: `Bearer ${bearer}`, accept: 'application/json' },
      },
    }));
    const [s] = r.take()!.errors;
    assert.ok(s);
    assert.equal(s.gateway, 'gw-1');
    for (const text of [s.request, s.answer, s.message]) {
      assert.ok(!text.includes(bearer), `no bearer token in ${text.slice(0, 80)}`);
      assert.ok(!text.includes('hunter2') && !text.includes('k-123456') && !text.includes('mgk_abcdef'));
    }
    assert.ok(s.request.includes('Paris'));
    assert.ok(s.request.length <= MAX_SAMPLE_CHARS);
    assert.match(s.request, /characters, cut\)$/);
  });

  it('stays bounded: distinct tool-minutes beyond maxKeys are dropped and counted, samples per tool and tools capped', () => {
    const r = new ActivityRecorder({ maxKeys: 100 });
    for (let i = 0; i < 1000; i++) r.record(call({ tool: `t${i}` }));
    assert.equal(r.pending, 100);
    assert.equal(r.dropped, 900);
    for (let i = 0; i < 50; i++) {
      for (let j = 0; j < 10; j++) r.record(call({ tool: `t${i % 60}`, ok: false, kind: 'x', at: t0 + j, failure: { arguments: { j }, answer: {}, message: `m${j}`, clientHeaders: {} } }));
    }
    const report = r.take()!;
    const byTool = new Map<string, number[]>();
    for (const e of report.errors) byTool.set(e.tool, [...(byTool.get(e.tool) ?? []), e.at]);
    assert.ok(byTool.size <= MAX_REPORT_SAMPLED_TOOLS);
    for (const ats of byTool.values()) {
      assert.ok(ats.length <= MAX_REPORT_SAMPLES_PER_TOOL);
      assert.ok(ats.includes(t0 + 9), 'the newest sample is kept');
    }
  });

  it('takes a report back when the registry did not, merged with what came since', () => {
    const r = new ActivityRecorder();
    r.record(call());
    const report = r.take()!;
    r.record(call({ ok: false, kind: 'k' }));
    r.giveBack(report);
    const again = r.take()!;
    assert.equal(again.buckets.length, 1);
    assert.deepEqual([again.buckets[0]!.calls, again.buckets[0]!.errors], [2, 1]);
  });

  it('redacts without blowing up on deep or wide values, and masks cookies and API-key headers', () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 100; i++) deep = { d: deep };
    assert.doesNotThrow(() => JSON.stringify(redact(deep)));
    const wide = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, i]));
    assert.equal(Object.keys(redact(wide) as object).length, 100);
    const hide = credentialMasker({ cookie: 'sid=abcdef123; theme=dark', 'x-api-key': 'sk-live-123456' });
    assert.equal(hide('sid abcdef123 and sk-live-123456'), 'sid **** and ****');
  });
});
