import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { McpServerSpec, RestTemplate, Tool } from './model.js';
import { checkJsonSchema, validateSpec, validationSchema } from './spec-validation.js';
import { expectAppError } from '../../test/support/errors.js';

function request(overrides: Partial<NonNullable<RestTemplate['request']>> = {}): NonNullable<RestTemplate['request']> {
  return { url: '/weather', method: 'GET', headers: [], argsToUrlParam: true, argsToJsonBody: false, argsToFormBody: false, ...overrides };
}

function template(overrides: Partial<RestTemplate> = {}): RestTemplate {
  return { request: request(), response: { body: 'weather {{ .weather }}' }, argsPosition: { city: 'query' }, ...overrides };
}

function weatherTool(overrides: Partial<Tool> = {}): Tool {
  return {
    name: 'get_weather',
    description: 'Weather by city',
    inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    enabled: true,
    template: template(),
    ...overrides,
  };
}

function spec(overrides: Partial<McpServerSpec> = {}): McpServerSpec {
  return { version: '1.0.0', description: '', config: {}, securitySchemes: [], tools: [weatherTool()], prompts: [], ...overrides };
}

function withTool(overrides: Partial<Tool>): McpServerSpec {
  return spec({ tools: [weatherTool(overrides)] });
}

/** A stand-in for the gateway's TemplateError. */
class FakeTemplateError extends Error {
  constructor(readonly line: number, readonly column: number, readonly detail: string) {
    super(`template: ${line}:${column}: ${detail}`);
  }
}

describe('validateSpec: accepted specs', () => {
  test('the COMPAT weather tool', () => {
    validateSpec(spec());
  });
  test('a draft-07 schema with definitions and a 2020-12 schema with $defs', () => {
    validateSpec(spec({
      tools: [
        weatherTool({
          inputSchema: {
            $schema: 'http://json-schema.org/draft-07/schema#',
            type: 'object',
            properties: { city: { $ref: '#/definitions/city' }, pair: { type: 'array', items: [{ type: 'string' }, { type: 'number' }] } },
            definitions: { city: { type: 'string', minLength: 1 } },
          },
        }),
        weatherTool({
          name: 'forecast',
          inputSchema: {
            $schema: 'https://json-schema.org/draft/2020-12/schema',
            type: 'object',
            properties: { city: { $ref: '#/$defs/city' }, day: { type: 'string', format: 'date' } },
            $defs: { city: { type: 'string' } },
          },
          outputSchema: { type: 'object', properties: { at: { type: 'string', format: 'date-time' } } },
        }),
      ],
    }));
  });
  test('unknown keywords and OpenAPI formats are tolerated', () => {
    validateSpec(withTool({ inputSchema: { type: 'object', properties: { city: { type: 'integer', format: 'int32', example: 3, 'x-source': 'openapi' } } } }));
  });
  test('the same $id (root and nested) can be checked again and again', () => {
    const schema = {
      $id: 'https://example.com/schemas/weather',
      type: 'object',
      properties: { city: { $id: 'https://example.com/schemas/city', type: 'string' } },
    };
    for (let i = 0; i < 3; i++) validateSpec(withTool({ inputSchema: structuredClone(schema) }));
  });
  test('tool names with dots, dashes and underscores up to 128 characters', () => {
    validateSpec(spec({ tools: [weatherTool({ name: 'admin.tools-list_v2' }), weatherTool({ name: 'a'.repeat(128) })] }));
  });
  test('a direct-response tool and a tool without a template', () => {
    validateSpec(spec({
      tools: [
        weatherTool({ template: template({ request: null, response: { body: '{{ .args.city }}' } }) }),
        weatherTool({ name: 'upstream', template: null, enabled: false }),
      ],
    }));
  });
  test('every template string is passed to the checker under <tool>.<field>', () => {
    const seen: string[] = [];
    validateSpec(
      withTool({
        template: template({
          request: request({ headers: [{ key: 'X-A', value: 'a' }, { key: 'X-B', value: 'b' }], body: 'body' }),
          response: { prependBody: 'pre', appendBody: 'post' },
          errorResponseTemplate: 'err',
        }),
      }),
      { checkTemplate: (source, name) => { seen.push(`${name}=${source}`); } },
    );
    assert.deepEqual(seen, [
      'get_weather.requestTemplate.url=/weather',
      'get_weather.requestTemplate.headers[0].value=a',
      'get_weather.requestTemplate.headers[1].value=b',
      'get_weather.requestTemplate.body=body',
      'get_weather.responseTemplate.prependBody=pre',
      'get_weather.responseTemplate.appendBody=post',
      'get_weather.errorResponseTemplate=err',
    ]);
  });
});

describe('validateSpec: version, config and security schemes', () => {
  test('version', () => {
    expectAppError(() => validateSpec(spec({ version: ' ' })), 'PARAMETER_MISSING', 'version');
    expectAppError(() => validateSpec(spec({ version: '1'.repeat(129) })), 'VALIDATION_FAILED', 'version');
  });
  test('config must be an object', () => {
    expectAppError(() => validateSpec(spec({ config: [] as unknown as Record<string, unknown> })), 'VALIDATION_FAILED', 'config');
  });
  test('scheme ids', () => {
    expectAppError(() => validateSpec(spec({ securitySchemes: [{ id: '', type: 'http', scheme: 'bearer' }] })), 'PARAMETER_MISSING', 'securitySchemes[0].id');
    expectAppError(
      () => validateSpec(spec({ securitySchemes: [{ id: 'k', type: 'http', scheme: 'bearer' }, { id: 'k', type: 'http', scheme: 'basic' }] })),
      'VALIDATION_FAILED', 'securitySchemes[1].id',
    );
  });
  test('scheme kinds', () => {
    expectAppError(() => validateSpec(spec({ securitySchemes: [{ id: 'k', type: 'http', scheme: 'digest' }] })), 'VALIDATION_FAILED', 'securitySchemes[0].scheme');
    expectAppError(() => validateSpec(spec({ securitySchemes: [{ id: 'k', type: 'apiKey', name: 'X' }] })), 'VALIDATION_FAILED', 'securitySchemes[0].in');
    expectAppError(() => validateSpec(spec({ securitySchemes: [{ id: 'k', type: 'apiKey', in: 'header' }] })), 'PARAMETER_MISSING', 'securitySchemes[0].name');
    expectAppError(
      () => validateSpec(spec({ securitySchemes: [{ id: 'k', type: 'oauth2' as 'http' }] })),
      'VALIDATION_FAILED', 'securitySchemes[0].type',
    );
  });
  test('a template may only name a declared scheme', () => {
    expectAppError(
      () => validateSpec(withTool({ template: template({ request: request({ security: { id: 'nope' } }) }) })),
      'VALIDATION_FAILED', 'tools[0](get_weather).requestTemplate.security.id',
    );
    validateSpec(spec({
      securitySchemes: [{ id: 'key', type: 'apiKey', in: 'header', name: 'X-API-Key' }],
      tools: [weatherTool({ template: template({ request: request({ security: { id: 'key', passthrough: true } }) }) })],
    }));
  });
  test('the agent-side scheme (clientId) must be declared; upstream: false takes neither passthrough nor a credential', () => {
    const schemes = [{ id: 'key', type: 'apiKey' as const, in: 'header' as const, name: 'X-API-Key' }, { id: 'agent', type: 'http' as const, scheme: 'bearer' }];
    const withSecurity = (security: Record<string, unknown>) => spec({ securitySchemes: schemes, tools: [weatherTool({ template: template({ request: request({ security: security as never }) }) })] });
    validateSpec(withSecurity({ id: 'key', clientId: 'agent', passthrough: true }));
    validateSpec(withSecurity({ id: 'agent', clientId: 'agent', upstream: false }));
    const field = 'tools[0](get_weather).requestTemplate.security';
    expectAppError(() => validateSpec(withSecurity({ id: 'key', clientId: 'nope' })), 'VALIDATION_FAILED', `${field}.clientId`);
    expectAppError(() => validateSpec(withSecurity({ id: 'key', upstream: false })), 'VALIDATION_FAILED', `${field}.clientId`);
    expectAppError(() => validateSpec(withSecurity({ id: 'key', clientId: 'agent', upstream: false, passthrough: true })), 'VALIDATION_FAILED', `${field}.passthrough`);
    expectAppError(() => validateSpec(withSecurity({ id: 'key', clientId: 'agent', upstream: false, credential: 'x' })), 'VALIDATION_FAILED', `${field}.credential`);
  });
});

describe('validateSpec: tool names and fields', () => {
  test('missing name', () => {
    expectAppError(() => validateSpec(withTool({ name: '' })), 'PARAMETER_MISSING', 'tools[0].name');
  });
  test('names outside the MCP rule', () => {
    expectAppError(() => validateSpec(withTool({ name: 'get weather' })), 'VALIDATION_FAILED', 'tools[0].name');
    expectAppError(() => validateSpec(withTool({ name: 'docs/get' })), 'VALIDATION_FAILED', 'tools[0].name');
    expectAppError(() => validateSpec(withTool({ name: 'a'.repeat(129) })), 'VALIDATION_FAILED', 'tools[0].name');
  });
  test('duplicate names', () => {
    expectAppError(() => validateSpec(spec({ tools: [weatherTool(), weatherTool()] })), 'VALIDATION_FAILED', 'tools[1](get_weather).name');
  });
  test('description, title, annotations, enabled', () => {
    expectAppError(() => validateSpec(withTool({ description: 3 as unknown as string })), 'VALIDATION_FAILED', 'tools[0](get_weather).description');
    expectAppError(() => validateSpec(withTool({ title: 3 as unknown as string })), 'VALIDATION_FAILED', 'tools[0](get_weather).title');
    expectAppError(() => validateSpec(withTool({ annotations: [] as unknown as Record<string, unknown> })), 'VALIDATION_FAILED', 'tools[0](get_weather).annotations');
    expectAppError(() => validateSpec(withTool({ enabled: 'yes' as unknown as boolean })), 'VALIDATION_FAILED', 'tools[0](get_weather).enabled');
  });
});

describe('validateSpec: JSON Schemas', () => {
  test('inputSchema must be an object schema', () => {
    expectAppError(() => validateSpec(withTool({ inputSchema: [] as unknown as Record<string, unknown> })), 'INVALID_SCHEMA', 'tools[0](get_weather).inputSchema');
    expectAppError(() => validateSpec(withTool({ inputSchema: { type: 'array' } })), 'INVALID_SCHEMA', 'tools[0](get_weather).inputSchema/type');
    expectAppError(() => validateSpec(withTool({ inputSchema: { properties: {} } })), 'INVALID_SCHEMA', 'tools[0](get_weather).inputSchema/type');
  });
  test('an invalid keyword value is named by its path, with ajv’s message', () => {
    const error = expectAppError(
      () => validateSpec(withTool({ inputSchema: { type: 'object', properties: { city: { type: 'strin' } } } })),
      'INVALID_SCHEMA', 'tools[0](get_weather).inputSchema/properties/city/type',
    );
    assert.match(error.message, /must be equal to one of the allowed values: array, boolean, integer, null, number, object, string/);
  });
  test('required must be an array of strings', () => {
    expectAppError(
      () => validateSpec(withTool({ inputSchema: { type: 'object', required: 'city' } })),
      'INVALID_SCHEMA', 'tools[0](get_weather).inputSchema/required',
    );
  });
  test('an unresolvable $ref fails compilation', () => {
    const error = expectAppError(
      () => validateSpec(withTool({ inputSchema: { type: 'object', properties: { city: { $ref: '#/definitions/missing' } } } })),
      'INVALID_SCHEMA', 'tools[0](get_weather).inputSchema',
    );
    assert.match(error.message, /can't resolve reference/);
  });
  test('a remote $ref is not fetched', () => {
    expectAppError(
      () => validateSpec(withTool({ inputSchema: { type: 'object', properties: { city: { $ref: 'https://example.com/city.json' } } } })),
      'INVALID_SCHEMA', 'tools[0](get_weather).inputSchema',
    );
  });
  test('a bad regular expression fails compilation', () => {
    expectAppError(
      () => validateSpec(withTool({ inputSchema: { type: 'object', properties: { city: { type: 'string', pattern: '(' } } } })),
      'INVALID_SCHEMA', 'tools[0](get_weather).inputSchema',
    );
  });
  test('the dialect follows $schema: tuple items are draft-07 only', () => {
    const tuple = { type: 'object', properties: { city: { type: 'string' }, pair: { type: 'array', items: [{ type: 'string' }] } } };
    validateSpec(withTool({ inputSchema: { $schema: 'http://json-schema.org/draft-07/schema', ...tuple } }));
    expectAppError(() => validateSpec(withTool({ inputSchema: tuple })), 'INVALID_SCHEMA', 'tools[0](get_weather).inputSchema/properties/pair/items');
  });
  test('other dialects are refused', () => {
    expectAppError(
      () => validateSpec(withTool({ inputSchema: { $schema: 'http://json-schema.org/draft-04/schema#', type: 'object' } })),
      'INVALID_SCHEMA', 'tools[0](get_weather).inputSchema/$schema',
    );
    expectAppError(
      () => validateSpec(withTool({ inputSchema: { $schema: 7, type: 'object' } })),
      'INVALID_SCHEMA', 'tools[0](get_weather).inputSchema/$schema',
    );
  });
  test('a root $id may not take over a meta-schema', () => {
    expectAppError(
      () => validateSpec(withTool({ inputSchema: { $id: 'https://json-schema.org/draft/2020-12/schema', type: 'object' } })),
      'INVALID_SCHEMA', 'tools[0](get_weather).inputSchema/$id',
    );
    validateSpec(spec());
  });
  test('outputSchema likewise', () => {
    expectAppError(() => validateSpec(withTool({ outputSchema: { type: 'string' } })), 'INVALID_SCHEMA', 'tools[0](get_weather).outputSchema/type');
    expectAppError(
      () => validateSpec(withTool({ outputSchema: { type: 'object', properties: { t: { minimum: 'x' } } } })),
      'INVALID_SCHEMA', 'tools[0](get_weather).outputSchema/properties/t/minimum',
    );
  });
  test('checkJsonSchema takes any schema, not only object ones', () => {
    checkJsonSchema({ type: 'string' }, 'schema');
    expectAppError(() => checkJsonSchema('x', 'schema'), 'INVALID_SCHEMA', 'schema');
  });
});

describe('validateSpec: what Higress passes through', () => {
  const nested = {
    type: 'object',
    properties: {
      shape: { type: 'object', properties: { title: { type: 'string', required: true }, tags: { type: 'array', items: { type: 'object', properties: { k: { type: 'string', required: false } } } } } },
    },
  };

  test('a boolean required on a nested property: accepted with a warning naming tool and field, listed as written', () => {
    const s = withTool({ inputSchema: structuredClone(nested), template: template({ argsPosition: {} }) });
    const warnings = validateSpec(s);
    assert.deepEqual(warnings.map((w) => [w.tool, w.field]), [
      ['get_weather', 'tools[0](get_weather).inputSchema/properties/shape/properties/title/required'],
      ['get_weather', 'tools[0](get_weather).inputSchema/properties/shape/properties/tags/items/properties/k/required'],
    ]);
    assert.deepEqual(s.tools[0]?.inputSchema, nested, 'the spec is not changed');
  });

  test('argument validation leaves it out; a schema with nothing to leave out is the same object', () => {
    const { schema, tolerated } = validationSchema(nested);
    assert.equal(tolerated.length, 2);
    assert.deepEqual((schema as { properties: { shape: { properties: { title: object } } } }).properties.shape.properties.title, { type: 'string' });
    const plain = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] };
    assert.equal(validationSchema(plain).schema, plain);
  });

  test('still refused: other invalid nested schemas, and the same construct in an output schema', () => {
    expectAppError(() => validateSpec(withTool({ inputSchema: { type: 'object', properties: { a: { type: 'object', properties: { b: { type: 'integr', required: true } } } } }, template: template({ argsPosition: {} }) })),
      'INVALID_SCHEMA', 'tools[0](get_weather).inputSchema/properties/a/properties/b/type');
    expectAppError(() => validateSpec(withTool({ outputSchema: structuredClone(nested) })), 'INVALID_SCHEMA', 'tools[0](get_weather).outputSchema/properties/shape/properties/title/required');
  });
});

describe('validateSpec: REST templates', () => {
  const T = 'tools[0](get_weather)';

  test('more than one args placement', () => {
    expectAppError(
      () => validateSpec(withTool({ template: template({ request: request({ argsToUrlParam: true, argsToFormBody: true }) }) })),
      'VALIDATION_FAILED', `${T}.requestTemplate`,
    );
  });
  test('body with prependBody or appendBody', () => {
    expectAppError(
      () => validateSpec(withTool({ template: template({ response: { body: 'a', appendBody: 'b' } }) })),
      'VALIDATION_FAILED', `${T}.responseTemplate`,
    );
  });
  test('a direct-response tool needs a response body', () => {
    expectAppError(
      () => validateSpec(withTool({ template: template({ request: null, response: { prependBody: 'x' } }) })),
      'PARAMETER_MISSING', `${T}.responseTemplate.body`,
    );
  });
  test('url, method and header keys', () => {
    expectAppError(() => validateSpec(withTool({ template: template({ request: request({ url: '' }) }) })), 'PARAMETER_MISSING', `${T}.requestTemplate.url`);
    expectAppError(() => validateSpec(withTool({ template: template({ request: request({ method: 'GET /x' }) }) })), 'VALIDATION_FAILED', `${T}.requestTemplate.method`);
    expectAppError(
      () => validateSpec(withTool({ template: template({ request: request({ headers: [{ key: '', value: 'v' }] }) }) })),
      'PARAMETER_MISSING', `${T}.requestTemplate.headers[0].key`,
    );
  });
  test('argsPosition keys must be inputSchema properties', () => {
    expectAppError(
      () => validateSpec(withTool({ template: template({ argsPosition: { town: 'query' } }) })),
      'VALIDATION_FAILED', `${T}.argsPosition.town`,
    );
  });
  test('argsPosition values must be known positions', () => {
    expectAppError(
      () => validateSpec(withTool({ template: template({ argsPosition: { city: 'form' as 'query' } }) })),
      'VALIDATION_FAILED', `${T}.argsPosition.city`,
    );
  });
  test('timeoutMs', () => {
    expectAppError(() => validateSpec(withTool({ template: template({ timeoutMs: 0 }) })), 'VALIDATION_FAILED', `${T}.timeoutMs`);
  });
});

describe('validateSpec: template syntax through the checker', () => {
  const T = 'tools[0](get_weather)';
  const full = template({
    request: request({ headers: [{ key: 'X-A', value: 'ok' }, { key: 'X-B', value: 'BAD' }], body: 'BAD' }),
    response: { prependBody: 'BAD', appendBody: 'BAD' },
    errorResponseTemplate: 'BAD',
  });
  const failOn = (target: string) => (source: string, name: string): void => {
    if (name === `get_weather.${target}` && source !== 'ok') throw new FakeTemplateError(2, 7, 'function "nope" not defined');
  };
  for (const target of [
    'requestTemplate.url', 'requestTemplate.headers[1].value', 'requestTemplate.body', 'responseTemplate.prependBody',
    'responseTemplate.appendBody', 'errorResponseTemplate',
  ]) {
    test(`a parse error in ${target}`, () => {
      const error = expectAppError(() => validateSpec(withTool({ template: full }), { checkTemplate: failOn(target) }), 'INVALID_TEMPLATE', `${T}.${target}`);
      assert.equal(error.message, `${T}.${target}: line 2, column 7: function "nope" not defined`);
    });
  }
  test('a parse error in responseTemplate.body', () => {
    expectAppError(
      () => validateSpec(withTool({}), { checkTemplate: failOn('responseTemplate.body') }),
      'INVALID_TEMPLATE', `${T}.responseTemplate.body`,
    );
  });
  test('errors that are not template errors propagate unchanged', () => {
    const boom = new TypeError('engine bug');
    assert.throws(() => validateSpec(spec(), { checkTemplate: () => { throw boom; } }), (error) => error === boom);
  });
  test('disabled tools are checked too', () => {
    expectAppError(
      () => validateSpec(withTool({ enabled: false }), { checkTemplate: failOn('requestTemplate.url') }),
      'INVALID_TEMPLATE', `${T}.requestTemplate.url`,
    );
  });
});

describe('validateSpec: prompts', () => {
  const prompt = { name: 'triage', arguments: [{ name: 'subject' }], messages: [{ role: 'user' as const, text: 'x' }] };
  test('names are required and unique', () => {
    expectAppError(() => validateSpec(spec({ prompts: [{ ...prompt, name: '' }] })), 'PARAMETER_MISSING', 'prompts[0].name');
    expectAppError(() => validateSpec(spec({ prompts: [prompt, prompt] })), 'VALIDATION_FAILED', 'prompts[1].name');
  });
  test('argument names and message roles', () => {
    expectAppError(() => validateSpec(spec({ prompts: [{ ...prompt, arguments: [{ name: '' }] }] })), 'PARAMETER_MISSING', 'prompts[0].arguments[0].name');
    expectAppError(
      () => validateSpec(spec({ prompts: [{ ...prompt, messages: [{ role: 'system' as 'user', text: 'x' }] }] })),
      'VALIDATION_FAILED', 'prompts[0].messages[0].role',
    );
  });
});
