// The Higress-specific functions getSocketIP and getRealIP, rendered as Higress renders them:
// its parseIP over Envoy's `source.address` and the X-Forwarded-For header (values worked out
// from plugins/wasm-go/pkg/mcp/server/rest_server.go), plus mcpgate's one difference: a header
// entry that is not an IP address falls back to the socket address.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TemplateError, parse } from '../index.js';
import type { RenderClient } from '../index.js';
import { addressOf } from './index.js';

const render = (source: string, client?: RenderClient): string => parse(source).render({ args: {} }, client && { client });

describe('Higress parseIP', () => {
  const cases: [string, boolean, string][] = [
    ['10.1.2.3:5678', false, '10.1.2.3'],
    ['10.1.2.3', false, '10.1.2.3'],
    ['[2001:db8::1]:443', false, '2001:db8::1'],
    ['::1', false, '::1'],
    ['203.0.113.7, 10.0.0.1', true, '203.0.113.7'],
    ['  203.0.113.7:1234 , 10.0.0.1', true, '203.0.113.7'],
    ['[2001:db8::2]:8080, 10.0.0.1', true, '2001:db8::2'],
    ['2001:db8::3', true, '2001:db8::3'],
    // Node's spelling of an IPv4 peer on a dual-stack socket: Envoy reports the IPv4 address.
    ['::ffff:127.0.0.1', false, '127.0.0.1'],
  ];
  for (const [source, fromHeader, want] of cases) {
    it(`${JSON.stringify(source)}${fromHeader ? ' (header)' : ''} → ${want}`, () => assert.equal(addressOf(source, fromHeader), want));
  }
});

describe('getSocketIP and getRealIP', () => {
  it('getSocketIP prints the connection peer; getRealIP prefers the first X-Forwarded-For entry', () => {
    const client = { socketAddress: '10.0.0.9:40112', forwardedFor: '198.51.100.4, 10.0.0.1' };
    assert.equal(render('{{ getSocketIP }}', client), '10.0.0.9');
    assert.equal(render('{{ getRealIP }}', client), '198.51.100.4');
    assert.equal(render('{{ getRealIP }}', { socketAddress: '10.0.0.9:40112' }), '10.0.0.9', 'no header: the socket');
    assert.equal(render('{{ getRealIP }}', { socketAddress: '::ffff:192.0.2.1', forwardedFor: '' }), '192.0.2.1', 'empty header: the socket');
  });

  it('the ip-query style body: the argument when given, else the caller', () => {
    const body = 'ip={{ if empty .args.ip }}{{ getRealIP }}{{ else }}{{ .args.ip }}{{ end }}';
    const t = parse(body);
    assert.equal(t.render({ args: { ip: '' } }, { client: { socketAddress: '127.0.0.1', forwardedFor: '203.0.113.9' } }), 'ip=203.0.113.9');
    assert.equal(t.render({ args: { ip: '8.8.8.8' } }, { client: { socketAddress: '127.0.0.1' } }), 'ip=8.8.8.8');
  });

  it('prints nothing outside a tool call (no client), as Higress with no address', () => {
    assert.equal(render('[{{ getRealIP }}][{{ getSocketIP }}]'), '[][]');
  });

  it('a forged X-Forwarded-For entry that is not an IP address is not printed: the socket address is', () => {
    const client = { socketAddress: '10.0.0.9:1', forwardedFor: '1.2.3.4/../../admin?x=1, 10.0.0.1' };
    assert.equal(render('{{ getRealIP }}', client), '10.0.0.9');
    assert.equal(render('{{ getRealIP }}', { forwardedFor: 'unknown' }), '');
  });

  it('the tracking render prints them as trusted text', () => {
    const t = parse('https://api.example.com/ip/{{ getRealIP }}', { taint: { root: 'args' } });
    const out = t.renderTracked({ args: {} }, { client: { forwardedFor: '192.0.2.5' } });
    assert.equal(out.text, 'https://api.example.com/ip/192.0.2.5');
    assert.ok(out.pieces.every((p) => p.taint === undefined));
  });

  it('take no arguments (Go\'s arity error at run time) and parse as known functions', () => {
    assert.throws(() => render('{{ getRealIP "x" }}'), (e: unknown) => e instanceof TemplateError && /wrong number of args for getRealIP: want 0 got 1/.test(e.message));
    assert.throws(() => parse('{{ getRealIPs }}'), TemplateError);
  });
});
