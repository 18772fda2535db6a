/** JSON Schemas of the native API's requests: validation at the edge and the OpenAPI document. */

const str = (maxLength = 255) => ({ type: 'string', minLength: 1, maxLength }) as const;
const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;

export const paging = {
  pageNo: { type: 'integer', minimum: 1, default: 1 },
  pageSize: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
} as const;

export const nsParams = { type: 'object', required: ['ns'], properties: { ns: str(128) } } as const;
export const serviceParams = { type: 'object', required: ['ns', 'group', 'name'], properties: { ns: str(128), group: str(), name: str() } } as const;
export const serverParams = { type: 'object', required: ['ns', 'name'], properties: { ns: str(128), name: str() } } as const;
export const versionParams = { type: 'object', required: ['ns', 'name', 'version'], properties: { ns: str(128), name: str(), version: str(128) } } as const;

export const healthCheck = {
  type: 'object', additionalProperties: false,
  properties: {
    type: { type: 'string', enum: ['tcp', 'http', 'none'] }, path: { type: 'string' }, port: { type: 'integer' },
    intervalMs: { type: 'integer' }, timeoutMs: { type: 'integer' }, healthyThreshold: { type: 'integer' }, unhealthyThreshold: { type: 'integer' },
  },
} as const;

export const namespaceBody = {
  type: 'object', additionalProperties: false, required: ['id'],
  properties: { id: str(128), name: { type: 'string', maxLength: 256 }, description: { type: 'string', maxLength: 4096 } },
} as const;

export const namespacePatch = {
  type: 'object', additionalProperties: false,
  properties: { name: { type: 'string', maxLength: 256 }, description: { type: 'string', maxLength: 4096 } },
} as const;

export const serviceBody = {
  type: 'object', additionalProperties: false, required: ['name'],
  properties: {
    name: str(), group: str(), metadata: stringMap, protectThreshold: { type: 'number', minimum: 0, maximum: 1 }, selector: { type: 'string' },
  },
} as const;

export const servicePatch = {
  type: 'object', additionalProperties: false,
  properties: { metadata: stringMap, protectThreshold: { type: 'number', minimum: 0, maximum: 1 }, selector: { type: 'string' } },
} as const;

export const instanceBody = {
  type: 'object', additionalProperties: false, required: ['ip', 'port'],
  properties: {
    ip: str(64), port: { type: 'integer', minimum: 1, maximum: 65535 }, cluster: str(64), weight: { type: 'number', minimum: 0, maximum: 10000 },
    enabled: { type: 'boolean' }, healthy: { type: 'boolean' }, ephemeral: { type: 'boolean' }, metadata: stringMap, healthCheck,
  },
} as const;

export const instancePatch = {
  type: 'object', additionalProperties: false,
  properties: { weight: { type: 'number', minimum: 0, maximum: 10000 }, enabled: { type: 'boolean' }, metadata: stringMap, healthCheck },
} as const;

const endpoint = {
  type: 'object', required: ['type'],
  properties: {
    type: { type: 'string', enum: ['service', 'direct', 'url', 'none'] }, namespace: { type: 'string' }, group: { type: 'string' },
    service: { type: 'string' }, address: { type: 'string' }, port: { type: 'integer' }, url: { type: 'string' },
    exportPath: { type: 'string', maxLength: 1024 },
  },
} as const;

const passthrough = {
  type: 'object', additionalProperties: false, required: ['headers', 'cookies'],
  properties: { headers: { type: 'array', items: { type: 'string' } }, cookies: { type: 'array', items: { type: 'string' } } },
} as const;

// Optional parts of a template get their defaults here (Ajv `useDefaults`), so the domain always
// receives a whole RestTemplate; `request: null` is a direct-response tool.
const template = {
  type: ['object', 'null'],
  properties: {
    request: {
      type: ['object', 'null'], default: null, required: ['url', 'method'],
      properties: {
        url: { type: 'string' }, method: { type: 'string' }, body: { type: 'string' },
        headers: { type: 'array', default: [], items: { type: 'object', required: ['key', 'value'], properties: { key: { type: 'string' }, value: { type: 'string' } } } },
        argsToUrlParam: { type: 'boolean', default: false }, argsToJsonBody: { type: 'boolean', default: false }, argsToFormBody: { type: 'boolean', default: false },
        security: {
          type: 'object', required: ['id'],
          properties: { id: { type: 'string' }, passthrough: { type: 'boolean' }, credential: { type: 'string' }, clientId: { type: 'string' }, upstream: { const: false } },
        },
      },
    },
    response: { type: 'object', default: {}, properties: { body: { type: 'string' }, prependBody: { type: 'string' }, appendBody: { type: 'string' } } },
    errorResponseTemplate: { type: 'string' },
    argsPosition: { type: 'object', default: {}, additionalProperties: { type: 'string', enum: ['path', 'query', 'header', 'cookie', 'body'] } },
    subPathArgs: { type: 'array', items: { type: 'string' } },
    timeoutMs: { type: 'integer', minimum: 1, maximum: 600000 },
  },
} as const;

export const tool = {
  type: 'object', required: ['name', 'inputSchema'],
  properties: {
    name: { type: 'string' }, title: { type: 'string' }, description: { type: 'string', default: '' },
    inputSchema: { type: 'object' }, outputSchema: { type: 'object' }, annotations: { type: 'object' },
    enabled: { type: 'boolean', default: true }, template,
  },
} as const;

export const spec = {
  type: 'object', required: ['tools'],
  properties: {
    version: { type: 'string' }, description: { type: 'string', default: '' }, config: { type: 'object', default: {} },
    securitySchemes: {
      type: 'array', default: [],
      items: { type: 'object', required: ['id', 'type'], properties: { id: { type: 'string' }, type: { type: 'string', enum: ['http', 'apiKey'] }, scheme: { type: 'string' }, in: { type: 'string', enum: ['header', 'query', 'cookie'] }, name: { type: 'string' }, defaultCredential: { type: 'string' } } },
    },
    tools: { type: 'array', items: tool, maxItems: 5000 },
    virtual: { type: 'object', description: 'A virtual server\'s members, selection, renames, naming and mode (protocol virtual): docs/virtual-servers.md' },
    authorization: { type: 'object', description: 'MCP authorization of the endpoint (OAuth resource server, scope grants, token exchange, rate limits), over its namespace\'s: docs/security.md' },
    secrets: {
      type: 'object', additionalProperties: false,
      properties: {
        config: { type: 'array', maxItems: 1000, items: { type: 'string', minLength: 1, maxLength: 1024 } },
        headers: { type: 'array', maxItems: 1000, items: { type: 'string', minLength: 1, maxLength: 256 } },
      },
    },
    prompts: {
      type: 'array', default: [],
      items: {
        type: 'object', required: ['name', 'messages'],
        properties: {
          name: { type: 'string' }, title: { type: 'string' }, description: { type: 'string' },
          arguments: { type: 'array', default: [], items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, description: { type: 'string' }, required: { type: 'boolean' } } } },
          messages: { type: 'array', items: { type: 'object', required: ['role', 'text'], properties: { role: { type: 'string', enum: ['user', 'assistant'] }, text: { type: 'string' } } } },
        },
      },
    },
  },
} as const;

const serverFields = {
  description: { type: 'string', maxLength: 10000 },
  protocol: { type: 'string', enum: ['http', 'https', 'mcp-streamable', 'mcp-sse', 'stdio', 'virtual'] },
  frontProtocol: { type: 'string', enum: ['mcp-streamable', 'mcp-sse'] },
  endpoint, enabled: { type: 'boolean' }, passthrough,
} as const;

export const serverBody = {
  type: 'object', additionalProperties: false, required: ['name', 'spec'],
  properties: { name: str(), ...serverFields, spec, publish: { type: 'boolean', default: true } },
} as const;

export const serverPatch = { type: 'object', additionalProperties: false, properties: serverFields } as const;

export const versionBody = {
  type: 'object', additionalProperties: false, required: ['spec'],
  properties: { spec, publish: { type: 'boolean', default: false }, server: serverPatch },
} as const;

/** What every import takes: the document as `content`, or a `url` the registry fetches it from (not both). */
const importSource = {
  content: { type: 'string', minLength: 1 }, url: { type: 'string', minLength: 1, maxLength: 2048 }, name: str(), version: str(128),
  publish: { type: 'boolean', default: false },
  file: { ...str(), description: 'The name of the file the content came from: named in warnings and the log' },
} as const;

/** OpenAPI's conversion options. */
const openApiOptions = {
  toolPrefix: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' },
  baseUrl: { type: 'string', minLength: 1, maxLength: 2048, pattern: '^https?://' },
  /** Where `content` was downloaded from (never fetched): relative `servers` resolve against it. */
  documentUrl: { type: 'string', minLength: 1, maxLength: 2048, pattern: '^https?://' },
  passthrough: { type: 'boolean' },
} as const;

export const importBody = {
  type: 'object', additionalProperties: false, required: ['format'],
  properties: { format: { type: 'string', enum: ['higress', 'nacos', 'openapi', 'server-json'] }, ...importSource, ...openApiOptions },
} as const;

export const importPreviewBody = {
  type: 'object', additionalProperties: false, required: ['format'],
  properties: { format: { type: 'string', enum: ['higress', 'nacos', 'openapi', 'server-json'] }, ...importSource, ...openApiOptions },
} as const;

export const openApiImportBody = {
  type: 'object', additionalProperties: false, properties: { ...importSource, ...openApiOptions },
} as const;

export const serverJsonImportBody = {
  type: 'object', additionalProperties: false, properties: { ...importSource },
} as const;
