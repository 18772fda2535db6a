// Templates written the way Higress REST-to-MCP and Nacos MCP definitions write them,
// each rendered against the data such a definition sees and asserted exactly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from './index.js';
import type { JsonValue } from './index.js';

const render = (source: string, data: JsonValue): string => parse(source, { name: 'definition' }).render(data);

describe('real definition styles', () => {
  it('numbered result list: range $index, $item with add $index 1', () => {
    const body = '{{- range $index, $item := .results }}\n- {{ add $index 1 }}. {{ $item.title }}{{- end }}';
    const data = { results: [{ title: 'Getting started' }, { title: 'Configuration' }, { title: 'FAQ' }] };
    assert.equal(render(body, data), '\n- 1. Getting started\n- 2. Configuration\n- 3. FAQ');
  });

  it('search results in markdown with nested fields and the root inside range', () => {
    const body =
      '# Results for "{{ $.query }}"\n' +
      '{{- range $i, $r := .items }}\n' +
      '{{ add $i 1 }}. [{{ $r.title }}]({{ $r.link }}){{ if $r.snippet }} — {{ $r.snippet }}{{ end }}\n' +
      '{{- end }}';
    const data: JsonValue = {
      query: 'mcp',
      items: [
        { title: 'MCP spec', link: 'https://modelcontextprotocol.io', snippet: 'The protocol' },
        { title: 'Gateway', link: 'https://example.com/gw' },
      ],
    };
    assert.equal(render(body, data), '# Results for "mcp"\n1. [MCP spec](https://modelcontextprotocol.io) — The protocol\n2. [Gateway](https://example.com/gw)');
  });

  it('JSON request body assembled with toJson of object and string arguments', () => {
    const body =
      '{"query": {{ toJson .args.query }}, "filters": {{ toJson .args.filters }}, "limit": {{ .args.limit }}, "key": {{ toJson .config.apiKey }}}';
    const data = {
      args: { query: 'say "hi" <b>', filters: { lang: ['en', 'fr'], safe: true }, limit: 5 },
      config: { apiKey: 'k-1' },
    };
    const out = render(body, data);
    assert.equal(
      out,
      '{"query": "say \\"hi\\" \\u003cb\\u003e", "filters": {"lang":["en","fr"],"safe":true}, "limit": 5, "key": "k-1"}',
    );
    assert.deepEqual(JSON.parse(out), { query: 'say "hi" <b>', filters: { lang: ['en', 'fr'], safe: true }, limit: 5, key: 'k-1' });
  });

  it('direct-response tool: dateInZone with a Go layout, now and an IANA zone from args', () => {
    const body = '{{ dateInZone "Monday, 2006-01-02 15:04:05" now .args.timeZone }}';
    const out = render(body, { args: { timeZone: 'Asia/Shanghai' }, config: {} });
    const m = /^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(out);
    assert.ok(m, out);
    const [, weekday, y, mo, d, h, mi, s] = m;
    const days = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
    assert.equal(weekday, days[new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d))).getUTCDay()]);
    const shown = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) - 8 * 3600_000;
    assert.ok(Math.abs(shown - Date.now()) < 5000, `${out} is not now in UTC+8`);
  });

  it('request headers: uuidv4 and APPCODE from config', () => {
    const data = { args: {}, config: { appCode: 'c0ffee42' } };
    assert.match(render('{{uuidv4}}', data), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(render('{{uuidv4}}', data), render('{{uuidv4}}', data));
    assert.equal(render('APPCODE {{.config.appCode}}', data), 'APPCODE c0ffee42');
    assert.equal(render('Bearer {{ .config.token }}', { config: { token: 'sk-1' } }), 'Bearer sk-1');
  });

  it('basic auth header with printf and b64enc', () => {
    const out = render('Basic {{ b64enc (printf "%s:%s" .config.user .config.password) }}', { config: { user: 'u', password: 'p@ss' } });
    assert.equal(out, 'Basic dTpwQHNz');
  });

  it('URL with args and a default', () => {
    const url = 'https://restapi.example.com/v3/weather?city={{ .args.city }}&extensions={{ .args.extensions | default "base" }}&key={{ .config.key }}';
    assert.equal(render(url, { args: { city: '110000' }, config: { key: 'K' } }), 'https://restapi.example.com/v3/weather?city=110000&extensions=base&key=K');
    assert.equal(
      render(url, { args: { city: '110000', extensions: 'all' }, config: { key: 'K' } }),
      'https://restapi.example.com/v3/weather?city=110000&extensions=all&key=K',
    );
  });

  it('if / else / end over optional fields', () => {
    const body =
      '# Weather\n' +
      '{{- if .lives }}\n' +
      '{{- range .lives }}\n' +
      '- {{ .city }}: {{ .weather }}, {{ .temperature }}°C{{ if .humidity }}, humidity {{ .humidity }}%{{ end }}\n' +
      '{{- end }}\n' +
      '{{- else }}\n' +
      'No data ({{ .info }})\n' +
      '{{- end }}';
    assert.equal(
      render(body, { lives: [{ city: 'Beijing', weather: 'Sunny', temperature: '21', humidity: '40' }, { city: 'Shanghai', weather: 'Rain', temperature: '18' }] }),
      '# Weather\n- Beijing: Sunny, 21°C, humidity 40%\n- Shanghai: Rain, 18°C',
    );
    assert.equal(render(body, { info: 'INVALID_USER_KEY' }), '# Weather\nNo data (INVALID_USER_KEY)');
  });

  it('{{- range .items}} trimming', () => {
    const body = 'Items:\n{{- range .items}}\n* {{.name}} ({{.price}})\n{{- end}}\nTotal: {{len .items}}';
    assert.equal(render(body, { items: [{ name: 'apple', price: 1.5 }, { name: 'pear', price: 2 }] }), 'Items:\n* apple (1.5)\n* pear (2)\nTotal: 2');
    assert.equal(render(body, { items: [] }), 'Items:\nTotal: 0');
  });

  it("the Nacos guide's {{.}} prints the whole response document", () => {
    const doc = { code: 0, data: { list: [{ id: 1, name: 'n', ok: true, score: 9.5, none: null }] }, msg: 'ok' };
    assert.equal(render('{{.}}', doc), JSON.stringify(doc));
    assert.equal(render('Response:\n{{ . }}', doc), `Response:\n${JSON.stringify(doc)}`);
  });

  it('argument names with a dash through index (Nacos issue #14279)', () => {
    const data = { args: { 'Content-Type': 'application/json', 'x-trace-id': 'abc' } };
    assert.equal(render('{{ index .args "Content-Type" }}; {{ index .args "x-trace-id" }}', data), 'application/json; abc');
  });

  it('error response template with status and message', () => {
    const body = '{{ if eq .code 401 }}Unauthorized: check the API key{{ else }}Error {{ .code }}: {{ .message | default "unknown" }}{{ end }}';
    assert.equal(render(body, { code: 401 }), 'Unauthorized: check the API key');
    assert.equal(render(body, { code: 500 }), 'Error 500: unknown');
    assert.equal(render(body, { code: 404, message: 'no such city' }), 'Error 404: no such city');
  });

  it('joins, lengths and not/empty tests', () => {
    const body = '{{ if not (empty .tags) }}Tags: {{ join ", " .tags }} ({{ len .tags }}){{ else }}No tags{{ end }}';
    assert.equal(render(body, { tags: ['a', 'b'] }), 'Tags: a, b (2)');
    assert.equal(render(body, { tags: [] }), 'No tags');
  });

  it('gjson queries in response templates', () => {
    const body = 'Open: {{ gjson "issues.#(state==\\"open\\")#.title" }}\nFirst: {{ gjson "issues.0.title" }}\nCount: {{ gjson "issues.#" }}';
    const data = { issues: [{ title: 'a', state: 'open' }, { title: 'b', state: 'closed' }, { title: 'c', state: 'open' }] };
    assert.equal(render(body, data), 'Open: ["a","c"]\nFirst: a\nCount: 3');
  });
});
