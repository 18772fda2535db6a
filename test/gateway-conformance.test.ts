// The MCP conformance suite's server scenarios against server-everything and the conformance
// fixture (test/fixtures/mcp/conformance-server.mjs) directly and through
// mcpgate (registered as mcp-streamable, mcp-sse and stdio), for each spec version the suite
// offers: every scenario that passes directly passes through mcpgate (docs/conformance.md).
// Needs Node 24 and the suite in .tools/ (scripts/node24.mjs, scripts/conformance.mjs, as
// .ci/run does): skipped without them, failed under MCPGATE_TEST_REQUIRE_SERVICES=1.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { requireServices } from './support/databases.js';
import { SPEC_VERSIONS, TARGETS, conformanceTable, locate, passes } from './support/conformance.js';

const found = locate();
if ('unavailable' in found && requireServices) throw new Error(`MCPGATE_TEST_REQUIRE_SERVICES=1 but ${found.unavailable}`);

describe('the MCP conformance suite through mcpgate', { skip: 'unavailable' in found ? found.unavailable : false }, () => {
  it('every scenario a reference server passes directly passes through mcpgate, for every registration and spec version', { timeout: 900_000 }, async () => {
    const { tables, outputs } = await conformanceTable();
    const lost: string[] = [];
    for (const [server, table] of Object.entries(tables)) {
      assert.deepEqual(Object.keys(table), [...SPEC_VERSIONS]);
      for (const [version, rows] of Object.entries(table)) {
        // The suite ran: the basic scenarios pass directly; the fixture passes every one.
        for (const basic of ['server-initialize', 'tools-list', 'tools-call-simple-text', 'ping']) assert.ok(passes(rows[basic]?.direct), `${server} ${version} ${basic} directly:\n${outputs[`${server} ${version} direct`]}`);
        if (server === 'conformance-fixture') for (const [scenario, r] of Object.entries(rows)) assert.ok(passes(r.direct), `the fixture fails ${scenario} (${version}) directly:\n${outputs[`${server} ${version} direct`]}`);
        for (const [scenario, r] of Object.entries(rows)) {
          if (!passes(r.direct)) continue;
          for (const target of TARGETS) if (!passes(r[target])) lost.push(`${server} ${version} ${target}: ${scenario}`);
        }
      }
    }
    assert.deepEqual(lost, [], `passes directly, fails through mcpgate:\n${lost.join('\n')}\n${[...new Set(lost.map((l) => l.split(':')[0] as string))].map((k) => outputs[k] ?? '').join('\n')}`);
  });
});
