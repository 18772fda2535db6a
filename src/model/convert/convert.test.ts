// Golden tests of the Nacos and Higress conversions, plus round trips and input errors.
// Each test/fixtures/convert/golden/<direction>/<case>.input.(json|yaml) has a <case>.expected.json beside it;
// UPDATE_GOLDEN=1 rewrites the expected files from the current output.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { McpServer, McpServerSpec, McpServerVersion } from '../model.js';
import { validateSpec } from '../spec-validation.js';
import { fromHigress, toHigress } from './higress.js';
import type { NacosDetailOptions, NacosMcpInput } from './nacos.js';
import { fromNacos, toNacosDetail, toNacosListItem, toNacosToolSpec } from './nacos.js';
import { parseJsonInput } from '../../lib/json-input.js';
import { expectAppError } from '../../../test/support/errors.js';

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'convert', 'golden');
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';
const INPUT = /^(.+)\.input\.(json|ya?ml)$/;

/** A template check that knows only `{{`/`}}` pairing, enough to exercise the hook. */
function checkBraces(source: string): void {
  const opened = source.split('{{').length - 1;
  const closed = source.split('}}').length - 1;
  if (opened !== closed) throw Object.assign(new Error('unbalanced'), { line: 1, column: 1, detail: 'unclosed action' });
}

function json(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}

interface GoldenCase { name: string; inputPath: string; expectedPath: string }

function goldenCases(direction: string): GoldenCase[] {
  const dir = join(GOLDEN, direction);
  return readdirSync(dir).sort().flatMap((file) => {
    const match = INPUT.exec(file);
    if (!match?.[1]) return [];
    return [{ name: match[1], inputPath: join(dir, file), expectedPath: join(dir, `${match[1]}.expected.json`) }];
  });
}

function golden(direction: string, convert: (inputPath: string) => unknown): void {
  const cases = goldenCases(direction);
  test(`${direction}: enough cases`, () => {
    assert.ok(cases.length >= (direction === 'nacos-list' ? 2 : 8), `${direction}: ${cases.length} cases`);
  });
  for (const c of cases) {
    test(`${direction}/${c.name}`, () => {
      const actual = json(convert(c.inputPath));
      if (UPDATE) {
        writeFileSync(c.expectedPath, `${JSON.stringify(actual, null, 2)}\n`);
        return;
      }
      assert.ok(existsSync(c.expectedPath), `${c.expectedPath} is missing; run with UPDATE_GOLDEN=1`);
      assert.deepEqual(actual, readJson(c.expectedPath));
    });
  }
}

function nacosInput(inputPath: string): NacosMcpInput {
  const raw = readJson(inputPath) as Record<string, unknown>;
  const field = (name: string): unknown => {
    const value = raw[name];
    return typeof value === 'string' ? parseJsonInput(value, name) : value;
  };
  const input: NacosMcpInput = { serverSpecification: field('serverSpecification') };
  if (raw['toolSpecification'] !== undefined) input.toolSpecification = field('toolSpecification');
  if (raw['endpointSpecification'] !== undefined) input.endpointSpecification = field('endpointSpecification');
  if (typeof raw['namespaceId'] === 'string') input.namespaceId = raw['namespaceId'];
  return input;
}

interface DetailInput { server: McpServer; version: McpServerVersion; allVersions: McpServerVersion[]; options?: NacosDetailOptions }

function detailInput(inputPath: string): DetailInput {
  return readJson(inputPath) as DetailInput;
}

function higressInput(inputPath: string): unknown {
  const text = readFileSync(inputPath, 'utf8');
  return inputPath.endsWith('.json') ? (JSON.parse(text) as unknown) : text;
}

describe('golden: Nacos create payload → internal', () => {
  golden('nacos-in', (path) => {
    const result = fromNacos(nacosInput(path));
    validateSpec(result.spec, { checkTemplate: checkBraces });
    return result;
  });
});

describe('golden: internal → Nacos detail', () => {
  golden('nacos-out', (path) => {
    const { server, version, allVersions, options } = detailInput(path);
    return toNacosDetail(server, version, allVersions, options);
  });
});

describe('golden: internal → Nacos list item', () => {
  golden('nacos-list', (path) => {
    const { server, version, allVersions } = detailInput(path);
    return toNacosListItem(server, version, allVersions);
  });
});

describe('golden: Higress definition → internal', () => {
  golden('higress-in', (path) => {
    const { name, spec, warnings } = fromHigress(higressInput(path));
    assert.deepEqual(warnings, []);
    validateSpec(spec, { checkTemplate: checkBraces });
    return { name, spec };
  });
});

describe('golden: internal → Higress definition', () => {
  golden('higress-out', (path) => {
    const { name, spec } = readJson(path) as { name: string; spec: McpServerSpec };
    validateSpec(spec, { checkTemplate: checkBraces });
    return toHigress(name, spec);
  });
});

describe('round trips', () => {
  test('the seed template comes back verbatim from a Nacos create payload', () => {
    const seed = '{"requestTemplate":{"url":"/xxx/list.json","method":"GET","headers":[],"argsToUrlParam":true},"responseTemplate":{"body":"{{.}}"}}';
    const { spec } = fromNacos({
      serverSpecification: { name: 'seed', protocol: 'http', versionDetail: { version: '1.0.0' } },
      toolSpecification: {
        tools: [{ name: 'list', description: 'List', inputSchema: { type: 'object', properties: {} } }],
        toolsMeta: { list: { enabled: true, templates: { 'json-go-template': parseJsonInput(seed, 'template') } } },
      },
      endpointSpecification: { type: 'DIRECT', data: { address: '10.0.0.1', port: 80 } },
    });
    const toolSpec = toNacosToolSpec(spec) as { toolsMeta: Record<string, { templates: Record<string, unknown> }> };
    assert.equal(JSON.stringify(toolSpec.toolsMeta['list']?.templates['json-go-template']), seed);
  });

  for (const c of goldenCases('nacos-in')) {
    test(`nacos-in/${c.name}: toolSpec of the detail converts back to the same spec`, () => {
      const input = nacosInput(c.inputPath);
      const first = fromNacos(input);
      const again = fromNacos({ ...input, toolSpecification: toNacosToolSpec(first.spec) });
      assert.deepEqual(json(again.spec), json(first.spec));
    });
  }

  for (const c of goldenCases('higress-in')) {
    test(`higress-in/${c.name}: toHigress then fromHigress is the identity`, () => {
      const first = fromHigress(higressInput(c.inputPath));
      assert.deepEqual(json(fromHigress(toHigress(first.name, first.spec))), json(first), 'no warnings either');
    });
  }

  for (const c of goldenCases('higress-out')) {
    test(`higress-out/${c.name}: fromHigress restores the spec`, () => {
      const { name, spec } = readJson(c.inputPath) as { name: string; spec: McpServerSpec };
      assert.deepEqual(json(fromHigress(toHigress(name, spec))), json({ name, spec, warnings: [] }));
    });
  }

  test('a Higress definition survives YAML text in and out', () => {
    const first = fromHigress(readFileSync(join(GOLDEN, 'higress-in', 'library-docs.input.yaml'), 'utf8'));
    assert.deepEqual(json(fromHigress(stringify(toHigress(first.name, first.spec)))), json(first));
  });
});

describe('names that are Object.prototype keys', () => {
  test('a Nacos tool named constructor has no toolsMeta entry unless one is given', () => {
    const input = (toolsMeta: unknown): NacosMcpInput => ({
      serverSpecification: { name: 'p', protocol: 'http' },
      endpointSpecification: { type: 'DIRECT', data: { address: 'h', port: 80 } },
      toolSpecification: { tools: [{ name: 'constructor', description: '' }], toolsMeta },
    });
    assert.equal(fromNacos(input({})).spec.tools[0]?.enabled, false);
    assert.equal(fromNacos(input(JSON.parse('{"constructor":{"enabled":true}}'))).spec.tools[0]?.enabled, true);
  });
  test('a Higress arg named __proto__ keeps its position and schema', () => {
    const doc = JSON.parse(
      '{"server":{"name":"p"},"tools":[{"name":"__proto__","args":[{"name":"__proto__","type":"string","position":"query"}],' +
      '"requestTemplate":{"url":"http://h/","method":"GET"},"responseTemplate":{"body":"x"}}]}',
    ) as unknown;
    const { name, spec } = fromHigress(doc);
    const tool = spec.tools[0];
    assert.ok(tool?.template);
    assert.deepEqual(Object.keys(tool.template.argsPosition), ['__proto__']);
    assert.ok(Object.hasOwn(tool.inputSchema['properties'] as object, '__proto__'));
    validateSpec(spec);
    assert.deepEqual(json(fromHigress(toHigress(name, spec))), json({ name, spec, warnings: [] }));
    const toolSpec = toNacosToolSpec(spec) as { toolsMeta: object };
    assert.deepEqual(Object.keys(toolSpec.toolsMeta), ['__proto__']);
  });
});

describe('Nacos input errors', () => {
  const server = { name: 'weather', protocol: 'http', versionDetail: { version: '1.0.0' } };
  const endpoint = { type: 'REF', data: { namespaceId: 'public', groupName: 'DEFAULT_GROUP', serviceName: 'weather-api' } };
  const tool = { name: 'get_weather', description: 'Weather', inputSchema: { type: 'object', properties: { city: { type: 'string' } } } };
  const withTemplate = (template: unknown): NacosMcpInput => ({
    serverSpecification: server,
    endpointSpecification: endpoint,
    toolSpecification: { tools: [tool], toolsMeta: { get_weather: { enabled: true, templates: { 'json-go-template': template } } } },
  });
  const TEMPLATE = 'toolSpecification.toolsMeta.get_weather.templates.json-go-template';

  test('malformed JSON in a form field', () => {
    const error = expectAppError(() => parseJsonInput('{"tools": [', 'toolSpecification'), 'INVALID_JSON', 'toolSpecification');
    assert.match(error.message, /^toolSpecification is not valid JSON/);
  });
  test('missing serverSpecification', () => {
    expectAppError(() => fromNacos({ serverSpecification: undefined }), 'PARAMETER_MISSING', 'serverSpecification');
  });
  test('serverSpecification that is not an object', () => {
    expectAppError(() => fromNacos({ serverSpecification: [1] }), 'VALIDATION_FAILED', 'serverSpecification');
  });
  test('missing name', () => {
    expectAppError(() => fromNacos({ serverSpecification: { protocol: 'http' } }), 'PARAMETER_MISSING', 'serverSpecification.name');
  });
  test('name of the wrong type', () => {
    expectAppError(() => fromNacos({ serverSpecification: { name: 7, protocol: 'http' } }), 'VALIDATION_FAILED', 'serverSpecification.name');
  });
  test('missing and unknown protocol', () => {
    expectAppError(() => fromNacos({ serverSpecification: { name: 'x' } }), 'PARAMETER_MISSING', 'serverSpecification.protocol');
    expectAppError(() => fromNacos({ serverSpecification: { name: 'x', protocol: 'dubbo' } }), 'VALIDATION_FAILED', 'serverSpecification.protocol');
  });
  test('unknown frontProtocol', () => {
    expectAppError(
      () => fromNacos({ serverSpecification: { ...server, frontProtocol: 'websocket' }, endpointSpecification: endpoint }),
      'VALIDATION_FAILED', 'serverSpecification.frontProtocol',
    );
  });
  test('id that is not a UUID', () => {
    expectAppError(() => fromNacos({ serverSpecification: { ...server, id: 'abc' }, endpointSpecification: endpoint }), 'VALIDATION_FAILED', 'serverSpecification.id');
  });
  test('enabled of the wrong type', () => {
    expectAppError(() => fromNacos({ serverSpecification: { ...server, enabled: 'yes' }, endpointSpecification: endpoint }), 'VALIDATION_FAILED', 'serverSpecification.enabled');
  });
  test('a remote server needs an endpoint', () => {
    expectAppError(() => fromNacos({ serverSpecification: server }), 'PARAMETER_MISSING', 'endpointSpecification');
  });
  test('endpoint type and data', () => {
    expectAppError(() => fromNacos({ serverSpecification: server, endpointSpecification: { data: {} } }), 'PARAMETER_MISSING', 'endpointSpecification.type');
    expectAppError(() => fromNacos({ serverSpecification: server, endpointSpecification: { type: 'URL', data: {} } }), 'VALIDATION_FAILED', 'endpointSpecification.type');
    expectAppError(() => fromNacos({ serverSpecification: server, endpointSpecification: { type: 'REF' } }), 'PARAMETER_MISSING', 'endpointSpecification.data');
  });
  test('REF without a service name', () => {
    expectAppError(
      () => fromNacos({ serverSpecification: server, endpointSpecification: { type: 'REF', data: { groupName: 'g' } } }),
      'PARAMETER_MISSING', 'endpointSpecification.data.serviceName',
    );
  });
  test('REF into another namespace', () => {
    expectAppError(
      () => fromNacos({ serverSpecification: server, endpointSpecification: endpoint, namespaceId: 'team-a' }),
      'VALIDATION_FAILED', 'endpointSpecification.data.namespaceId',
    );
  });
  test('DIRECT address and port', () => {
    const direct = (data: unknown): NacosMcpInput => ({ serverSpecification: server, endpointSpecification: { type: 'DIRECT', data } });
    expectAppError(() => fromNacos(direct({ port: 80 })), 'PARAMETER_MISSING', 'endpointSpecification.data.address');
    expectAppError(() => fromNacos(direct({ address: 'h' })), 'PARAMETER_MISSING', 'endpointSpecification.data.port');
    expectAppError(() => fromNacos(direct({ address: 'h', port: '80a' })), 'VALIDATION_FAILED', 'endpointSpecification.data.port');
    expectAppError(() => fromNacos(direct({ address: 'h', port: 70000 })), 'VALIDATION_FAILED', 'endpointSpecification.data.port');
    expectAppError(() => fromNacos(direct({ address: 'h', port: 80, transportProtocol: 'grpc' })), 'VALIDATION_FAILED', 'endpointSpecification.data.transportProtocol');
  });
  test('tools must be an array of objects with names', () => {
    const input = (toolSpecification: unknown): NacosMcpInput => ({ serverSpecification: server, endpointSpecification: endpoint, toolSpecification });
    expectAppError(() => fromNacos(input({ tools: {} })), 'VALIDATION_FAILED', 'toolSpecification.tools');
    expectAppError(() => fromNacos(input({ tools: ['x'] })), 'VALIDATION_FAILED', 'toolSpecification.tools[0]');
    expectAppError(() => fromNacos(input({ tools: [{ description: 'd' }] })), 'PARAMETER_MISSING', 'toolSpecification.tools[0].name');
  });
  test('inputSchema and outputSchema must be objects', () => {
    const input = (t: unknown): NacosMcpInput => ({ serverSpecification: server, endpointSpecification: endpoint, toolSpecification: { tools: [t] } });
    expectAppError(() => fromNacos(input({ name: 'a', inputSchema: '{}' })), 'INVALID_SCHEMA', 'toolSpecification.tools[0].inputSchema');
    expectAppError(() => fromNacos(input({ name: 'a', outputSchema: [] })), 'INVALID_SCHEMA', 'toolSpecification.tools[0].outputSchema');
  });
  test('toolsMeta entry that is not an object', () => {
    expectAppError(
      () => fromNacos({ serverSpecification: server, endpointSpecification: endpoint, toolSpecification: { tools: [tool], toolsMeta: { get_weather: true } } }),
      'VALIDATION_FAILED', 'toolSpecification.toolsMeta.get_weather',
    );
  });
  test('more than one args placement in a template', () => {
    expectAppError(
      () => fromNacos(withTemplate({ requestTemplate: { url: '/w', method: 'GET', argsToUrlParam: true, argsToJsonBody: true }, responseTemplate: {} })),
      'VALIDATION_FAILED', `${TEMPLATE}.requestTemplate`,
    );
  });
  test('body with prependBody in a template', () => {
    expectAppError(
      () => fromNacos(withTemplate({ requestTemplate: { url: '/w', method: 'GET' }, responseTemplate: { body: 'a', prependBody: 'b' } })),
      'VALIDATION_FAILED', `${TEMPLATE}.responseTemplate`,
    );
  });
  test('direct-response template without a body', () => {
    expectAppError(() => fromNacos(withTemplate({ responseTemplate: {} })), 'PARAMETER_MISSING', `${TEMPLATE}.responseTemplate.body`);
  });
  test('unknown argsPosition value', () => {
    expectAppError(
      () => fromNacos(withTemplate({ requestTemplate: { url: '/w', method: 'GET' }, argsPosition: { city: 'form' } })),
      'VALIDATION_FAILED', `${TEMPLATE}.argsPosition.city`,
    );
  });
  test('template text that is not JSON or YAML', () => {
    expectAppError(() => fromNacos(withTemplate('requestTemplate: [unclosed')), 'INVALID_JSON', TEMPLATE);
  });
  test('headers must be a list of key/value pairs', () => {
    expectAppError(
      () => fromNacos(withTemplate({ requestTemplate: { url: '/w', method: 'GET', headers: { 'X-A': '1' } }, responseTemplate: {} })),
      'VALIDATION_FAILED', `${TEMPLATE}.requestTemplate.headers`,
    );
  });
  test('an agent credential taken by one scheme and sent to the backend by another', () => {
    const { spec } = fromNacos(withTemplate({
      requestTemplate: { url: '/w', method: 'GET', security: { id: 'Backend' } },
      responseTemplate: {},
      security: { id: 'Client', passthrough: true },
    }));
    assert.deepEqual(spec.tools[0]?.template?.request?.security, { id: 'Backend', passthrough: true, clientId: 'Client' });
    const meta = toNacosToolSpec(spec).toolsMeta as Record<string, { templates: Record<string, Record<string, unknown>> }>;
    const written = meta['get_weather']?.templates['json-go-template'];
    assert.deepEqual([written?.['security'], (written?.['requestTemplate'] as Record<string, unknown>)['security']], [{ id: 'Client', passthrough: true }, { id: 'Backend' }]);
  });
  test('security scheme of an unknown type', () => {
    expectAppError(
      () => fromNacos({ serverSpecification: server, endpointSpecification: endpoint, toolSpecification: { securitySchemes: [{ id: 'k', type: 'oauth2' }] } }),
      'VALIDATION_FAILED', 'toolSpecification.securitySchemes[0].type',
    );
  });
  test('stdio localServerConfig that is malformed JSON text', () => {
    expectAppError(
      () => fromNacos({ serverSpecification: { name: 'x', protocol: 'stdio', localServerConfig: '{"mcpServers":' } }),
      'INVALID_JSON', 'serverSpecification.localServerConfig',
    );
  });
});

describe('Higress input errors', () => {
  const withTool = (tool: Record<string, unknown>): unknown => ({ server: { name: 's' }, tools: [{ name: 't', description: 'd', ...tool }] });

  test('YAML that does not parse names the document, line and column', () => {
    const error = expectAppError(() => fromHigress('server:\n  name: [a\n'), 'INVALID_JSON', 'definition');
    assert.match(error.message, /line \d+, column \d+/);
  });
  test('duplicate YAML keys', () => {
    expectAppError(() => fromHigress('server:\n  name: a\n  name: b\n'), 'INVALID_JSON', 'definition');
  });
  test('a document that is not an object', () => {
    expectAppError(() => fromHigress('- a\n- b\n'), 'VALIDATION_FAILED', 'document');
  });
  test('missing server and server name', () => {
    expectAppError(() => fromHigress({ tools: [] }), 'PARAMETER_MISSING', 'server');
    expectAppError(() => fromHigress({ server: {} }), 'PARAMETER_MISSING', 'server.name');
  });
  test('an mcp-proxy server is not a REST definition', () => {
    expectAppError(() => fromHigress({ server: { name: 's', type: 'mcp-proxy' } }), 'VALIDATION_FAILED', 'server.type');
  });
  test('more than one args placement', () => {
    expectAppError(
      () => fromHigress(withTool({ requestTemplate: { url: 'http://x/', method: 'POST', argsToJsonBody: true, argsToFormBody: true }, responseTemplate: {} })),
      'VALIDATION_FAILED', 'tools[0].requestTemplate',
    );
  });
  test('body with appendBody', () => {
    expectAppError(
      () => fromHigress(withTool({ requestTemplate: { url: 'http://x/', method: 'GET' }, responseTemplate: { body: 'a', appendBody: 'b' } })),
      'VALIDATION_FAILED', 'tools[0].responseTemplate',
    );
  });
  test('direct response without a body', () => {
    expectAppError(() => fromHigress(withTool({ responseTemplate: { prependBody: 'x' } })), 'PARAMETER_MISSING', 'tools[0].responseTemplate.body');
  });
  test('unknown position', () => {
    expectAppError(
      () => fromHigress(withTool({ args: [{ name: 'a', type: 'string', position: 'form' }], responseTemplate: { body: 'x' } })),
      'VALIDATION_FAILED', 'tools[0].args[0].position',
    );
  });
  test('unknown arg type; int and the like read as their JSON Schema type with a warning (as Higress accepts them)', () => {
    expectAppError(
      () => fromHigress(withTool({ args: [{ name: 'a', type: 'float32' }], responseTemplate: { body: 'x' } })),
      'VALIDATION_FAILED', 'tools[0].args[0].type',
    );
    const { spec, warnings } = fromHigress(withTool({ args: [{ name: 'a', type: 'int' }, { name: 'b', type: 'bool' }], responseTemplate: { body: 'x' } }));
    assert.deepEqual(spec.tools[0]?.inputSchema['properties'], { a: { type: 'integer' }, b: { type: 'boolean' } });
    assert.deepEqual(warnings.map((w) => [w.tool, w.field]), [['t', 'tools[0](t).args[0].type'], ['t', 'tools[0](t).args[1].type']]);
  });
  test('arg without a name; a duplicate arg: the last declaration wins, with a warning', () => {
    expectAppError(() => fromHigress(withTool({ args: [{ type: 'string' }], responseTemplate: { body: 'x' } })), 'PARAMETER_MISSING', 'tools[0].args[0].name');
    const { spec, warnings } = fromHigress(withTool({
      args: [{ name: 'a', required: true, position: 'header' }, { name: 'z' }, { name: 'a', type: 'integer', position: 'query' }], requestTemplate: { url: 'http://x/', method: 'GET' }, responseTemplate: {},
    }));
    assert.deepEqual(spec.tools[0]?.inputSchema, { type: 'object', properties: { z: { type: 'string' }, a: { type: 'integer' } } });
    assert.deepEqual(spec.tools[0]?.template?.argsPosition, { a: 'query' });
    assert.deepEqual(warnings.map((w) => w.field), ['tools[0](t).args[2].name']);
  });
  test('required and enum of the wrong type', () => {
    expectAppError(() => fromHigress(withTool({ args: [{ name: 'a', required: 'sometimes' }], responseTemplate: { body: 'x' } })), 'VALIDATION_FAILED', 'tools[0].args[0].required');
    expectAppError(() => fromHigress(withTool({ args: [{ name: 'a', enum: 'x' }], responseTemplate: { body: 'x' } })), 'VALIDATION_FAILED', 'tools[0].args[0].enum');
  });
  test('method that is not a token', () => {
    expectAppError(
      () => fromHigress(withTool({ requestTemplate: { url: 'http://x/', method: 'GET /' }, responseTemplate: {} })),
      'VALIDATION_FAILED', 'tools[0].requestTemplate.method',
    );
  });
  test('tool-level security without passthrough: the agent credential is taken and removed, the backend gets none', () => {
    const { spec } = fromHigress({
      server: { name: 's', securitySchemes: [{ id: 'b', type: 'http', scheme: 'bearer' }] },
      tools: [{ name: 't', security: { id: 'b' }, requestTemplate: { url: 'http://x/', method: 'GET' }, responseTemplate: {} }],
    });
    assert.deepEqual(spec.tools[0]?.template?.request?.security, { id: 'b', clientId: 'b', upstream: false });
  });
  test('allowTools must be strings', () => {
    expectAppError(() => fromHigress({ server: { name: 's' }, allowTools: [1] }), 'VALIDATION_FAILED', 'allowTools[0]');
  });
  test('prompt message role', () => {
    expectAppError(
      () => fromHigress({ server: { name: 's' }, prompts: [{ name: 'p', messages: [{ role: 'system', text: 'x' }] }] }),
      'VALIDATION_FAILED', 'prompts[0].messages[0].role',
    );
  });
});
