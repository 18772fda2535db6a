// The MCP conformance suite's server scenarios against server-everything directly and through
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
  it('every scenario server-everything passes directly passes through mcpgate, for every registration and spec version', { timeout: 600_000 }, async () => {
    const { table, outputs } = await conformanceTable();
    assert.deepEqual(Object.keys(table), [...SPEC_VERSIONS]);
    const lost: string[] = [];
    for (const [version, rows] of Object.entries(table)) {
      const direct = Object.entries(rows).filter(([, r]) => passes(r.direct));
      // The suite ran: the basic scenarios pass directly.
      for (const basic of ['server-initialize', 'tools-list', 'tools-call-simple-text', 'ping']) assert.ok(passes(rows[basic]?.direct), `${version} ${basic} directly:\n${outputs[`${version} direct`]}`);
      for (const [scenario] of direct) {
        for (const target of TARGETS) if (!passes(rows[scenario]?.[target])) lost.push(`${version} ${scenario} through ${target}`);
      }
    }
    assert.deepEqual(lost, [], `passes directly, fails through mcpgate:\n${lost.join('\n')}\n${lost.map((l) => outputs[l.replace(/ [\w-]+ through /, ' ')] ?? '').join('\n')}`);
  });
});
