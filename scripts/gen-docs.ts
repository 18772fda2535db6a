// Writes docs/configuration.md and docs/errors.md from the tables in the code (run: npm run docs).
import { writeFileSync } from 'node:fs';
import { OPTIONS } from '../src/config/config.js';
import { ERRORS } from '../src/lib/errors.js';
import { GATEWAY_ERRORS } from '../src/gateway/errors.js';

const config = [
  '# Configuration',
  '',
  'Every option can be set in a YAML file (`mcpgate serve --config mcpgate.yaml`, nested keys as in the first column),',
  'in an environment variable, or with a flag. Flags win over the environment, which wins over the file.',
  'An invalid value stops the process at start with a message naming the key and where it came from, for example',
  '`mcpgate: invalid registryPort (flag --registry-port): Invalid input: expected number, received NaN; got "abc"` (exit code 2).',
  '',
  '| key | environment | flag | meaning |',
  '| --- | --- | --- | --- |',
  ...OPTIONS.map((o) => `| \`${o.key}\` | \`${o.env}\` | ${o.flag ? `\`${o.flag}\`` : '—'} | ${o.doc} |`),
  '',
  'Example file:',
  '',
  '```yaml',
  'host: 0.0.0.0',
  'registryPort: 8848',
  'db: postgres://mcpgate@db.internal:5432/mcpgate',
  'logLevel: info',
  'auth:',
  '  enabled: true',
  '  adminUsername: admin',
  '```',
  '',
].join('\n');

const errors = [
  '# Error codes',
  '',
  'The native API (`/api/v1`) answers every error as',
  '`{"error": {"code": "VALIDATION_FAILED", "message": "port: must be …", "field": "port"}}` with the HTTP status below;',
  '`field` names the parameter or body field at fault when there is one.',
  'The Nacos-compatible APIs answer in Nacos\' shapes: v1 with the status and a plain-text `caused: <message>;` body,',
  'v2 and v3 with `{"code": <Nacos code>, "message": "<short>", "data": "<message>"}`.',
  'The MCP Registry API (`/v0.1`) answers as the official registry does, in problem JSON (`application/problem+json`):',
  '`{"title": "Bad Request", "status": 400, "detail": "limit: must be <= 100", "code": "VALIDATION_FAILED", "field": "limit", "errors": [{"location": "query.limit", "message": …}]}`.',
  '',
  '| code | HTTP | Nacos code | meaning |',
  '| --- | --- | --- | --- |',
  ...Object.entries(ERRORS).map(([code, e]) => `| \`${code}\` | ${e.status} | ${e.nacos} | ${e.doc} |`),
  '',
  '## Gateway (MCP endpoints)',
  '',
  'The gateway answers JSON-RPC errors `{"jsonrpc":"2.0","id":…,"error":{"code","message","data"?}}`.',
  'Errors about one request inside a working exchange (unknown tool, invalid arguments) are answered in band',
  'with HTTP 200, as MCP requires; transport and protocol errors carry the HTTP status below.',
  'A failing backend call is not an error here: it is a tool result with `isError: true`.',
  '',
  '| code | HTTP | JSON-RPC | meaning |',
  '| --- | --- | --- | --- |',
  ...Object.entries(GATEWAY_ERRORS).map(([code, e]) => `| \`${code}\` | ${e.status} | ${e.rpc} | ${e.doc} |`),
  '',
].join('\n');

writeFileSync(new URL('../docs/configuration.md', import.meta.url), config);
writeFileSync(new URL('../docs/errors.md', import.meta.url), errors);
console.log('wrote docs/configuration.md and docs/errors.md');
