// Where a rollback goes: the publish history walked back, never forward; servers published
// before the history was kept fall back to their versions' first publish times.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffSpecs, publishedLine, rollbackTarget } from './mcp.js';
import type { McpServerSpec, McpServerVersion, PublishEvent } from '../../model/model.js';

const spec = (version: string, tools: McpServerSpec['tools'] = []): McpServerSpec => ({ version, description: '', config: {}, securitySchemes: [], tools, prompts: [] });
const version = (v: string, publishedAt: number | null): McpServerVersion => ({ serverId: 's', version: v, status: 'archived', spec: spec(v), createdAt: 0, publishedAt, etag: `"${v}"`, revision: 1 });
let seq = 0;
const ev = (action: PublishEvent['action'], v: string, previous: string | null = null): PublishEvent => ({ serverId: 's', seq: ++seq, action, version: v, previousVersion: previous, actor: 'a', note: '', at: seq });

describe('rollback targets', () => {
  const versions = ['1.0.0', '1.1.0', '1.2.0', '2.0.0'].map((v, i) => version(v, i + 1));

  it('goes to the version served before, and further back on each rollback', () => {
    const h = [ev('publish', '1.0.0'), ev('publish', '1.1.0'), ev('publish', '1.2.0')];
    assert.equal(rollbackTarget(h, versions, '1.2.0'), '1.1.0');
    h.push(ev('rollback', '1.1.0'));
    assert.deepEqual(publishedLine(h, versions, '1.1.0'), ['1.0.0', '1.1.0']);
    assert.equal(rollbackTarget(h, versions, '1.1.0'), '1.0.0', 'not forward to 1.2.0');
    h.push(ev('rollback', '1.0.0'));
    assert.equal(rollbackTarget(h, versions, '1.0.0'), undefined);
  });

  it('starts a new line after a publish, skips a republish of the served version and deleted versions', () => {
    const h = [ev('publish', '1.0.0'), ev('publish', '1.1.0'), ev('rollback', '1.0.0'), ev('publish', '2.0.0'), ev('publish', '2.0.0')];
    assert.deepEqual(publishedLine(h, versions, '2.0.0'), ['1.0.0', '2.0.0']);
    assert.equal(rollbackTarget(h, versions, '2.0.0'), '1.0.0');
    assert.equal(rollbackTarget(h, versions.filter((v) => v.version !== '1.0.0'), '2.0.0'), undefined, 'a deleted version is no target');
  });

  it('walks back through the revisions of a version overwritten the Nacos way', () => {
    const overwritten = [{ ...version('1.0.0', 1), revision: 2 }, version('1.1.0', 2)];
    const h = [{ ...ev('publish', '1.0.0'), revision: 1 }, { ...ev('overwrite', '1.0.0', '1.0.0'), revision: 2, previousRevision: 1 }];
    assert.deepEqual(publishedLine(h, overwritten, '1.0.0'), ['1.0.0@1', '1.0.0']);
    assert.equal(rollbackTarget(h, overwritten, '1.0.0'), '1.0.0@1');
    h.push({ ...ev('publish', '1.1.0', '1.0.0'), revision: 1, previousRevision: 2 });
    assert.equal(rollbackTarget(h, overwritten, '1.1.0'), '1.0.0', 'the version as it is now');
    const back = [{ ...version('1.0.0', 1), revision: 1 }, version('1.1.0', 2)];
    h.push({ ...ev('rollback', '1.0.0', '1.1.0'), revision: 1, previousRevision: 1 });
    assert.deepEqual(publishedLine(h, back, '1.0.0'), ['1.0.0'], 'back to the first content: nothing before it');
    assert.equal(rollbackTarget(h, back, '1.0.0'), undefined);
  });

  it('falls back to first publish times for servers published before the history', () => {
    assert.deepEqual(publishedLine([], versions, '1.2.0'), ['1.0.0', '1.1.0', '1.2.0']);
    assert.equal(rollbackTarget([], versions, '1.2.0'), '1.1.0');
    assert.equal(rollbackTarget([], [version('1.0.0', 5)], '1.0.0'), undefined);
  });
});

describe('spec diffs', () => {
  it('matches tools by name, not by position', () => {
    const tool = (name: string, description: string) => ({ name, description, inputSchema: { type: 'object' }, enabled: true, template: null });
    const a = spec('1', [tool('a', 'first'), tool('b', 'second')]);
    const b = spec('2', [tool('b', 'second, edited'), tool('a', 'first')]);
    assert.deepEqual(diffSpecs(a, b).filter((c) => c.path !== 'version'), [{ path: 'tools[b].description', kind: 'changed', tool: 'b', from: 'second', to: 'second, edited' }]);
    const c = spec('3', [tool('a', 'first')]);
    assert.deepEqual(diffSpecs(a, c).filter((x) => x.path !== 'version').map((x) => [x.path, x.kind, x.tool]), [['tools[b]', 'removed', 'b']]);
  });
});
