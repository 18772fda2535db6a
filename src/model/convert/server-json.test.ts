// server.json (the official MCP Registry format) → an MCP server: remotes, packages of each
// registry type, registry answers, and what is refused.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../lib/errors.js';
import { fromServerJson } from './server-json.js';

const base = { name: 'io.github.acme/tool', description: 'A tool', version: '1.2.3' };

function refusedField(doc: unknown): string | undefined {
  try {
    fromServerJson(JSON.stringify(doc));
  } catch (err) {
    assert.ok(err instanceof AppError);
    assert.equal(err.code, 'SERVER_JSON_INVALID', err.message);
    return err.field;
  }
  assert.fail('not refused');
}

describe('server.json import', () => {
  test('a streamable-http remote is preferred over sse; variables filled; headers forwarded from the agent', () => {
    const r = fromServerJson({
      ...base, title: 'Acme',
      remotes: [
        { type: 'sse', url: 'https://acme.example/sse' },
        { type: 'streamable-http', url: 'https://{host}/mcp', variables: { host: { value: 'mcp.acme.example' } }, headers: [{ name: 'X-Key', value: 'fixed' }] },
      ],
    });
    assert.deepEqual(r.input, {
      name: 'io.github.acme/tool', description: 'A tool', protocol: 'mcp-streamable', endpoint: { type: 'url', url: 'https://mcp.acme.example/mcp' },
      passthrough: { headers: ['X-Key'], cookies: [] },
    });
    assert.equal(r.spec.description, 'Acme: A tool');
    assert.equal(r.spec.version, '1.2.3');
    assert.deepEqual(r.spec.tools, []);
    assert.equal(r.warnings.length, 2, r.warnings.join('\n'));
    const sse = fromServerJson({ ...base, remotes: [{ type: 'sse', url: 'https://acme.example/sse' }] });
    assert.equal(sse.input.protocol, 'mcp-sse');
  });

  test('packages become the command line a client would run, with their environment', () => {
    const cmd = (pkg: Record<string, unknown>) => {
      const { spec } = fromServerJson({ ...base, packages: [{ transport: { type: 'stdio' }, ...pkg }] });
      return (spec.config['mcpServers'] as Record<string, unknown>)['tool'];
    };
    assert.deepEqual(cmd({ registryType: 'npm', identifier: '@acme/tool', version: '1.2.3' }), { command: 'npx', args: ['-y', '@acme/tool@1.2.3'] });
    assert.deepEqual(cmd({ registryType: 'pypi', identifier: 'acme-tool', version: '1.2.3', runtimeHint: 'uvx' }), { command: 'uvx', args: ['acme-tool==1.2.3'] });
    assert.deepEqual(cmd({
      registryType: 'oci', identifier: 'ghcr.io/acme/tool', version: '1.2.3',
      runtimeArguments: [{ type: 'named', name: '-e', value: 'MODE=ro' }], packageArguments: [{ type: 'positional', value: '/data' }],
      environmentVariables: [{ name: 'TOKEN', isRequired: true, isSecret: true }],
    }), { command: 'docker', args: ['run', '-i', '--rm', '-e', 'MODE=ro', 'ghcr.io/acme/tool:1.2.3', '/data'], env: { TOKEN: '' } });
    assert.deepEqual(cmd({ registryType: 'nuget', identifier: 'Acme.Tool', version: '1.2.3' }), { command: 'dnx', args: ['Acme.Tool@1.2.3', '--yes'] });
    const { input, warnings } = fromServerJson({
      ...base, packages: [
        { registryType: 'mcpb', identifier: 'https://x.example/a.mcpb', transport: { type: 'stdio' } },
        { registryType: 'npm', identifier: '@acme/tool', version: '1.2.3', transport: { type: 'stdio' }, environmentVariables: [{ name: 'KEY', isRequired: true }] },
      ],
    });
    assert.equal(input.protocol, 'stdio');
    assert.deepEqual(input.endpoint, { type: 'none' });
    assert.ok(warnings.some((w) => w.includes('"mcpb"')) && warnings.some((w) => w.includes('KEY is required')), warnings.join('\n'));
  });

  test('a registry answer ({server, _meta}) imports as its server; the name can be overridden', () => {
    const r = fromServerJson({ server: { ...base, remotes: [{ type: 'streamable-http', url: 'https://gw.example/mcp/public/tool' }] }, _meta: {} }, { name: 'tool' });
    assert.equal(r.input.name, 'tool');
    assert.equal(r.input.protocol, 'mcp-streamable');
  });

  test('refusals name the field', () => {
    assert.equal(refusedField([]), 'content');
    assert.equal(refusedField({ description: 'd', version: '1' }), 'name');
    assert.equal(refusedField({ ...base, name: 'a/b/c' }), 'name');
    assert.equal(refusedField({ ...base, name: 7 }), 'name');
    assert.equal(refusedField({ ...base, description: undefined }), 'description');
    assert.equal(refusedField({ ...base, version: 'latest' }), 'version');
    assert.equal(refusedField({ ...base, version: '1.x' }), 'version');
    assert.equal(refusedField({ ...base, remotes: {} }), 'remotes');
    assert.equal(refusedField({ ...base, remotes: [{ type: 'streamable-http' }] }), 'remotes[0].url');
    assert.equal(refusedField({ ...base, remotes: [{ type: 'streamable-http', url: 'ftp://x.example/' }] }), 'remotes[0].url');
    assert.equal(refusedField({ ...base, packages: [{ registryType: 'npm', identifier: 'x', transport: { type: 'streamable-http', url: 'http://localhost:3000/mcp' } }] }), 'packages');
    assert.equal(refusedField({ ...base, packages: [{ transport: { type: 'stdio' } }] }), 'packages[0].registryType');
    assert.equal(refusedField({ ...base, packages: ['npm'] }), 'packages[0]');
  });
});
