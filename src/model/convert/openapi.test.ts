// OpenAPI 3 import: the three fixtures (a Petstore, an orders API in 3.0 YAML, a tickets API in
// 3.1 JSON) converted and checked field by field, each result checked as saving would check it,
// round-tripped through the Higress format, golden-compared, and hostile documents refused with
// the field named. UPDATE_GOLDEN=1 rewrites test/fixtures/openapi/*.expected.json.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../lib/errors.js';
import { checkSpec } from '../../tools/compile.js';
import type { McpServerSpec, Tool } from '../model.js';
import { fromHigress, toHigress } from './higress.js';
import { parseImport } from './import.js';
import { MAX_OPERATIONS, fromOpenApi, serverNameFrom } from './openapi.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'openapi');
const read = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

function tool(spec: McpServerSpec, name: string): Tool {
  const t = spec.tools.find((x) => x.name === name);
  assert.ok(t, `tool ${name} in ${spec.tools.map((x) => x.name).join(', ')}`);
  return t;
}

function refusal(fn: () => unknown, code: string, field?: string | RegExp): AppError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof AppError, `an AppError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (typeof field === 'string') assert.equal(caught.field, field, caught.message);
  else if (field) assert.match(caught.field ?? '', field, caught.message);
  return caught;
}

describe('OpenAPI import', () => {
  test('Petstore: operations become tools, parameters placed by in, body properties body arguments, response object schema the output', () => {
    const { input, spec, warnings } = fromOpenApi(read('petstore.yaml'));
    assert.equal(input.name, 'swagger-petstore');
    assert.deepEqual(input.endpoint, { type: 'url', url: 'http://petstore.example.invalid/v1' });
    assert.equal(input.protocol, 'http');
    assert.equal(spec.version, '1.0.0');
    assert.deepEqual(spec.tools.map((t) => t.name), ['listPets', 'createPets', 'showPetById']);
    assert.deepEqual(warnings, []);

    const list = tool(spec, 'listPets');
    assert.equal(list.description, 'List all pets');
    assert.deepEqual(list.template?.request && { url: list.template.request.url, method: list.template.request.method }, { url: '/pets', method: 'GET' });
    assert.deepEqual(list.template?.argsPosition, { limit: 'query' });
    assert.deepEqual(list.inputSchema, {
      type: 'object',
      properties: { limit: { type: 'integer', maximum: 100, format: 'int32', description: 'How many items to return at one time (max 100)' } },
    });
    assert.equal(list.outputSchema, undefined, 'an array response is no structuredContent');
    assert.deepEqual(list.annotations, { readOnlyHint: true });

    const create = tool(spec, 'createPets');
    assert.deepEqual(create.template?.argsPosition, { id: 'body', name: 'body', tag: 'body' });
    assert.deepEqual(create.inputSchema['required'], ['id', 'name']);
    assert.deepEqual(create.template?.request?.headers, [{ key: 'Content-Type', value: 'application/json' }]);
    assert.equal(create.template?.request?.body, undefined);

    const show = tool(spec, 'showPetById');
    assert.equal(show.template?.request?.url, '/pets/{petId}');
    assert.deepEqual(show.template?.argsPosition, { petId: 'path' });
    assert.deepEqual(show.inputSchema['required'], ['petId']);
    assert.deepEqual(show.outputSchema, {
      type: 'object', required: ['id', 'name'],
      properties: { id: { type: 'integer', format: 'int64' }, name: { type: 'string' }, tag: { type: 'string' } },
    });
    checkSpec(spec);
  });

  test('orders API (3.0 YAML): shared components, path-level parameters, allOf, nullable, recursion cut, form body, cookie, API key', () => {
    const { input, spec, warnings } = fromOpenApi(read('orders-api.yaml'));
    assert.equal(input.name, 'acme-orders-api');
    assert.deepEqual(input.endpoint, { type: 'url', url: 'https://eu.orders.example.invalid/api' }, 'server variables at their defaults');
    assert.equal(input.protocol, 'https');
    assert.equal(spec.version, '2024-05-01');
    assert.deepEqual(spec.securitySchemes, [{ id: 'apiKey', type: 'apiKey', in: 'header', name: 'X-Acme-Key' }]);
    assert.ok(warnings.some((w) => w.startsWith('servers: 2 servers')), warnings.join('\n'));
    assert.deepEqual(spec.tools.map((t) => t.name), ['listOrders', 'createOrder', 'getOrder', 'delete_orders_orderId', 'updateOrderNote', 'getCategory']);

    const list = tool(spec, 'listOrders');
    assert.deepEqual(list.template?.argsPosition, { pageSize: 'query', status: 'query', customerId: 'query', 'X-Request-Id': 'header' });
    assert.deepEqual((list.inputSchema['properties'] as Record<string, unknown>)['customerId'], { type: ['string', 'null'] }, 'nullable');
    assert.deepEqual((list.inputSchema['properties'] as Record<string, unknown>)['pageSize'], { type: 'integer', default: 20, minimum: 1, maximum: 200, description: 'Items per page' });
    assert.deepEqual(list.template?.request?.security, { id: 'apiKey' }, 'the global requirement');
    const listOut = list.outputSchema as { properties: { next: unknown; items: { items: { allOf: unknown[] } } } };
    assert.deepEqual(listOut.properties.next, { type: ['string', 'null'] });
    assert.equal(listOut.properties.items.items.allOf.length, 2, 'the referenced Order inlined');

    const create = tool(spec, 'createOrder');
    assert.deepEqual(create.template?.argsPosition, { customerId: 'body', note: 'body', lines: 'body' }, 'allOf parts merged into body arguments');
    assert.deepEqual(create.inputSchema['required'], ['customerId', 'lines']);
    assert.deepEqual((create.inputSchema['properties'] as Record<string, unknown>)['note'], { type: ['string', 'null'], examples: ['Leave at the door'] });
    assert.equal(create.outputSchema?.['type'], 'object', 'an allOf of objects is an object output');

    const get = tool(spec, 'getOrder');
    assert.deepEqual(get.template?.argsPosition, { orderId: 'path', session: 'cookie' });
    assert.deepEqual((get.inputSchema['properties'] as Record<string, unknown>)['orderId'], { type: 'string', pattern: '^ord_[a-z0-9]+$', description: "The order's id" });

    const cancel = tool(spec, 'delete_orders_orderId');
    assert.match(cancel.description, /^Deprecated\. Cancel an order/);
    assert.deepEqual(cancel.annotations, { destructiveHint: true, idempotentHint: true });

    const note = tool(spec, 'updateOrderNote');
    assert.deepEqual(note.template?.request?.headers, [{ key: 'Content-Type', value: 'application/x-www-form-urlencoded' }]);
    assert.deepEqual(note.template?.argsPosition, { orderId: 'path', note: 'body', notify: 'body' });

    const category = tool(spec, 'getCategory');
    assert.equal(category.template?.request?.security, undefined, 'security: [] means anonymous');
    assert.deepEqual((category.inputSchema['properties'] as Record<string, unknown>)['categoryId'], { type: 'integer', exclusiveMinimum: 0 }, 'boolean exclusiveMinimum');
    const tree = category.outputSchema as { properties: { parent: { description: string }; children: { items: { description: string } } } };
    assert.match(tree.properties.parent.description, /recursive/);
    assert.match(tree.properties.children.items.description, /recursive/);
    checkSpec(spec);
  });

  test('tickets API (3.1 JSON): OAuth 2 passthrough, bearer, whole-body arguments, text bodies, odd and duplicate operationIds, relative server', () => {
    const { input, spec, warnings } = fromOpenApi(read('tickets-api.json'));
    assert.equal(input.name, 'helpdesk-tickets');
    assert.deepEqual(input.endpoint, { type: 'none' }, 'a relative server without the document URL');
    assert.ok(warnings.some((w) => w.includes('"/api/v2" is relative')), warnings.join('\n'));
    assert.deepEqual(spec.securitySchemes, [{ id: 'oauth', type: 'http', scheme: 'bearer' }, { id: 'bot', type: 'http', scheme: 'bearer' }]);
    assert.deepEqual(spec.tools.map((t) => t.name), ['tickets.list_all', 'createTicket', 'createTicket_2', 'post_tickets_id_comments', 'updateTicket']);
    assert.ok(warnings.some((w) => w.includes('"createTicket" is taken')));

    const search = tool(spec, 'tickets.list_all');
    assert.equal(search.template?.request?.url, '/api/v2/tickets');
    assert.deepEqual(search.template?.argsPosition, { tag: 'query', q: 'query' }, 'the Accept header parameter is ignored');
    assert.deepEqual(search.template?.request?.security, { id: 'oauth', passthrough: true });
    assert.equal(search.outputSchema?.['type'], 'object', 'a 2XX response');

    const open = tool(spec, 'createTicket');
    assert.deepEqual(open.template?.request?.security, { id: 'bot' });
    assert.deepEqual(open.template?.argsPosition, { subject: 'body', body: 'body', priority: 'body' });

    const tags = tool(spec, 'createTicket_2');
    assert.deepEqual(tags.template?.argsPosition, { id: 'path' });
    assert.equal(tags.template?.request?.body, '{{ toRawJson .args.body }}', 'an array body is one argument');
    assert.deepEqual((tags.inputSchema['properties'] as Record<string, unknown>)['body'], { type: 'array', items: { type: 'string' }, uniqueItems: true });
    assert.deepEqual(tags.inputSchema['required'], ['id'], 'the body is optional');

    const comment = tool(spec, 'post_tickets_id_comments');
    assert.equal(comment.template?.request?.body, '{{ .args.body }}');
    assert.deepEqual(comment.template?.request?.headers, [{ key: 'Content-Type', value: 'text/plain' }]);
    assert.deepEqual(comment.inputSchema['required'], ['id', 'body']);

    const update = tool(spec, 'updateTicket');
    assert.ok(warnings.some((w) => w.includes('property "id" is also a parameter')));
    assert.deepEqual(update.template?.argsPosition, { id: 'path' });
    assert.equal(update.template?.request?.body, '{{ toRawJson .args.body }}');
    assert.equal(update.description, 'PATCH /tickets/{id}', 'no summary: the method and path');
    checkSpec(spec);
  });

  test('options: name, tool prefix, base URL, passthrough, document URL for relative servers', () => {
    const a = fromOpenApi(read('tickets-api.json'), { documentUrl: 'https://help.example.invalid/spec/openapi.json' });
    assert.deepEqual(a.input.endpoint, { type: 'url', url: 'https://help.example.invalid/api/v2' });
    assert.equal(tool(a.spec, 'createTicket').template?.request?.url, '/tickets');
    const b = fromOpenApi(read('orders-api.yaml'), { name: 'orders', toolPrefix: 'acme_', baseUrl: 'http://10.1.2.3:8080/base/', passthrough: true });
    assert.equal(b.input.name, 'orders');
    assert.deepEqual(b.input.endpoint, { type: 'url', url: 'http://10.1.2.3:8080/base' });
    assert.equal(b.spec.tools[0]?.name, 'acme_listOrders');
    assert.deepEqual(tool(b.spec, 'acme_listOrders').template?.request?.security, { id: 'apiKey', passthrough: true });
    assert.equal(serverNameFrom('  Ünïcode API!! '), 'n-code-api');
    assert.equal(serverNameFrom('***'), 'openapi');
  });

  test('operations and paths with servers of their own call them directly', () => {
    const { input, spec, warnings } = fromOpenApi({
      openapi: '3.1.0', info: { title: 'split', version: '1' }, servers: [{ url: 'https://api.example.invalid/v1' }],
      paths: {
        '/a': { get: { operationId: 'a' } },
        '/files/{id}': { servers: [{ url: 'https://files.example.invalid/{v}', variables: { v: { default: 'v2' } } }], get: { operationId: 'file' } },
        '/b': { get: { operationId: 'b', servers: [{ url: 'https://api.example.invalid/v1/' }] } },
        '/c': { get: { operationId: 'c', servers: [{ url: 'ftp://nope.example.invalid/' }] } },
      },
    });
    assert.deepEqual(input.endpoint, { type: 'url', url: 'https://api.example.invalid/v1' });
    assert.deepEqual(spec.tools.map((t) => t.template?.request?.url), ['/a', 'https://files.example.invalid/v2/files/{id}', '/b', '/c']);
    assert.ok(warnings.some((w) => w.includes('has its own servers (https://files.example.invalid/v2)')));
    assert.ok(warnings.some((w) => w.startsWith('paths./c.get: its own servers entry')));
    checkSpec(spec);
  });

  test('round trip through the Higress format keeps every tool', () => {
    for (const file of ['petstore.yaml', 'orders-api.yaml', 'tickets-api.json']) {
      const { input, spec } = fromOpenApi(read(file));
      const back = fromHigress(toHigress(input.name, spec));
      assert.equal(back.name, input.name);
      assert.deepEqual(back.spec.tools, spec.tools, file);
      assert.deepEqual(back.spec.securitySchemes, spec.securitySchemes, file);
    }
  });

  test('golden conversions', () => {
    for (const file of ['petstore.yaml', 'orders-api.yaml', 'tickets-api.json']) {
      const out = JSON.parse(JSON.stringify(parseImport('openapi', read(file)))) as unknown;
      const golden = join(FIXTURES, `${file.replace(/\.(ya?ml|json)$/, '')}.expected.json`);
      if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(golden)) writeFileSync(golden, `${JSON.stringify(out, null, 2)}\n`);
      assert.deepEqual(out, JSON.parse(readFileSync(golden, 'utf8')), file);
    }
  });

  test('hostile and unusable documents are refused with the field named', () => {
    const doc = (extra: Record<string, unknown>) => JSON.stringify({ openapi: '3.0.3', info: { title: 't', version: '1' }, paths: {}, ...extra });
    refusal(() => fromOpenApi('swagger: "2.0"\ninfo: {title: x}\n'), 'OPENAPI_INVALID', 'swagger');
    refusal(() => fromOpenApi('{"info":{}}'), 'OPENAPI_INVALID', 'openapi');
    refusal(() => fromOpenApi('{"openapi":"4.0.0"}'), 'OPENAPI_INVALID', 'openapi');
    refusal(() => fromOpenApi('[1,2]'), 'OPENAPI_INVALID', 'content');
    refusal(() => fromOpenApi('openapi: [unclosed'), 'INVALID_JSON', 'content');
    refusal(() => fromOpenApi(`${'['.repeat(200)}${']'.repeat(200)}`), 'JSON_TOO_DEEP', 'content');
    refusal(() => fromOpenApi(doc({ paths: { '/a': { get: { parameters: [{ $ref: 'other.yaml#/p' }], responses: {} } } } })), 'OPENAPI_INVALID', /parameters\[0\]\.\$ref$/);
    refusal(() => fromOpenApi(doc({ paths: { '/a': { get: { parameters: [{ $ref: '#/components/parameters/nope' }] } } } })), 'OPENAPI_INVALID', /parameters\[0\]\.\$ref$/);
    // A parameter that refers to itself through another.
    refusal(() => fromOpenApi(doc({ components: { parameters: { a: { $ref: '#/components/parameters/b' }, b: { $ref: '#/components/parameters/a' } } }, paths: { '/a': { get: { parameters: [{ $ref: '#/components/parameters/a' }] } } } })),
      'OPENAPI_INVALID', /parameters\[0\]$/);
    refusal(() => fromOpenApi(doc({ paths: { '/a': { get: { parameters: [{ name: 'x', in: 'body' }] } } } })), 'OPENAPI_INVALID', 'paths./a.get.parameters[0].in');
    refusal(() => fromOpenApi(doc({ paths: { '/a': { get: { parameters: [{ in: 'query' }] } } } })), 'OPENAPI_INVALID', 'paths./a.get.parameters[0].name');
    refusal(() => fromOpenApi(doc({ paths: { a: {} } })), 'OPENAPI_INVALID', 'paths.a');
    refusal(() => fromOpenApi(doc({ paths: { '/a': { get: 'nope' } } })), 'OPENAPI_INVALID', 'paths./a.get');
    refusal(() => fromOpenApi(doc({ components: { securitySchemes: { k: { type: 'apiKey', in: 'body', name: 'k' } } } })), 'OPENAPI_INVALID', 'components.securitySchemes.k.in');
    refusal(() => fromOpenApi(doc({ servers: [{ url: 'ftp://x.example/' }] })), 'OPENAPI_INVALID', 'servers[0].url');
    refusal(() => fromOpenApi(doc({ servers: [{ url: 'https://{tenant}.example/' }] })), 'OPENAPI_INVALID', 'servers[0].url');
    refusal(() => fromOpenApi(doc({}), { toolPrefix: 'bad prefix' }), 'VALIDATION_FAILED', 'toolPrefix');
    const many: Record<string, unknown> = {};
    for (let i = 0; i <= MAX_OPERATIONS; i++) many[`/op${i}`] = { get: { responses: {} } };
    refusal(() => fromOpenApi(doc({ paths: many })), 'OPENAPI_INVALID', 'paths');
  });

  test('a reference fan-out that would expand exponentially is refused, not expanded', () => {
    // Each level refers to the one below twice: 2^40 nodes once inlined.
    const schemas: Record<string, unknown> = { L0: { type: 'string' } };
    for (let i = 1; i <= 40; i++) schemas[`L${i}`] = { type: 'object', properties: { a: { $ref: `#/components/schemas/L${i - 1}` }, b: { $ref: `#/components/schemas/L${i - 1}` } } };
    const doc = {
      openapi: '3.1.0', info: { title: 'bomb', version: '1' }, components: { schemas },
      paths: { '/x': { post: { requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/L40' } } } }, responses: {} } } },
    };
    refusal(() => fromOpenApi(doc), 'OPENAPI_INVALID', 'content');
  });

  test('deep and self-referring schemas stay bounded and valid', () => {
    const doc = {
      openapi: '3.1.0', info: { title: 'deep', version: '1' },
      components: { schemas: { Node: { type: 'object', properties: { next: { $ref: '#/components/schemas/Node' }, value: { type: 'string' } } }, Self: { $ref: '#/components/schemas/Self' } } },
      paths: {
        '/n': { post: { operationId: 'n', requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Node' } } } }, responses: { 200: { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Node' } } } } } } },
        '/s': { post: { operationId: 's', requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Self' } } } }, responses: {} } },
      },
    };
    const { spec } = fromOpenApi(doc);
    const n = tool(spec, 'n');
    assert.deepEqual(Object.keys(n.template?.argsPosition ?? {}), ['next', 'value']);
    assert.match(((n.inputSchema['properties'] as Record<string, { description?: string }>)['next'])?.description ?? '', /recursive/);
    assert.ok(tool(spec, 's'), 'a schema that is only a reference to itself still makes a tool');
    checkSpec(spec);
    // Nesting deeper than the snapshot's limit is cut.
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 60; i++) deep = { type: 'object', properties: { d: deep } };
    const cut = fromOpenApi({ openapi: '3.0.0', info: { title: 'x', version: '1' }, paths: { '/d': { post: { operationId: 'd', requestBody: { content: { 'application/json': { schema: deep } } } } } } });
    assert.ok(JSON.stringify(cut.spec).split('{').length < 80, 'bounded nesting');
    checkSpec(cut.spec);
  });
});
