// The console's pure parts, without a browser: human field names, the version diff, client
// configurations, the allow-list encoding, and the two languages' texts (same keys, same
// placeholders, every key the pages use present).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import i18next from 'i18next';
import { decodeAllow, encodeAllow } from '../src/console/src/allow-list.js';
import { agentUrl, clientConfigs, CLIENTS } from '../src/console/src/client-configs.js';
import { humanField } from '../src/console/src/field-names.js';
import { en } from '../src/console/src/locales/en.js';
import { zhCN } from '../src/console/src/locales/zh-CN.js';
import { groupChanges, placeInTool, wordDiff } from '../src/console/src/spec-diff.js';

const SRC = resolve(import.meta.dirname, '..', 'src', 'console', 'src');

async function translator(lng: 'en' | 'zh-CN') {
  const i = i18next.createInstance();
  await i.init({ lng, resources: { en: { translation: en }, 'zh-CN': { translation: zhCN } }, interpolation: { escapeValue: false } });
  return i.t;
}

/** Every leaf of a resource tree, as `a.b.c` → text. */
function leaves(tree: object, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(tree)) {
    if (typeof v === 'string') out.set(`${prefix}${k}`, v);
    else for (const [kk, vv] of leaves(v as object, `${prefix}${k}.`)) out.set(kk, vv);
  }
  return out;
}

const base = (key: string) => key.replace(/_(one|other)$/, '');
const placeholders = (text: string) => [...text.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();

describe('human field names', () => {
  it('names tools and places inside them as people do, in both languages', async () => {
    const t = await translator('en');
    assert.equal(humanField('tools[0](get_forecast).requestTemplate.url', t), 'tool get_forecast › request URL');
    assert.equal(humanField('tools[2](get_forecast).requestTemplate.headers[1].value', t), 'tool get_forecast › request header 2');
    assert.equal(humanField('tools[0](x).inputSchema/properties/city/type', t), 'tool x › input schema › properties › city › type');
    assert.equal(humanField('tools[get_weather].template.request.url', t), 'tool get_weather › request URL');
    assert.equal(humanField('tools[1].description', t), 'tool #2 › description');
    assert.equal(humanField('endpoint.url', t), 'endpoint URL');
    assert.equal(humanField('arguments.city', t), 'argument city');
    assert.equal(humanField('definition.name', t), 'name');
    const zh = await translator('zh-CN');
    assert.equal(humanField('tools[0](get_forecast).requestTemplate.url', zh), '工具 get_forecast › 请求 URL');
  });
});

describe('the version diff', () => {
  it('groups changes by tool name, leaves the version number out, and marks changed words', () => {
    const groups = groupChanges([
      { path: 'version', kind: 'changed', from: '1.0.0', to: '1.0.1' },
      { path: 'description', kind: 'changed', from: 'a', to: 'b' },
      { path: 'tools[zeta].description', kind: 'changed', tool: 'zeta', from: 'Weather by city', to: 'Weather now by city' },
      { path: 'tools[alpha]', kind: 'added', tool: 'alpha', to: { name: 'alpha' } },
    ]);
    assert.deepEqual(groups.map((g) => [g.tool, g.whole, g.changes.length]), [[undefined, undefined, 1], ['alpha', 'added', 1], ['zeta', undefined, 1]]);
    assert.equal(placeInTool(groups[2]!.changes[0]!), 'description');
    assert.deepEqual(wordDiff('Weather by city', 'Weather now by city').filter((p) => p.kind !== 'same').map((p) => [p.kind, p.text.trim()]), [['added', 'now']]);
    assert.ok(wordDiff({ a: 1 }, { a: 2 }).some((p) => p.kind === 'removed' && p.text.includes('1')), 'non-text values compare as JSON');
  });
});

describe('client configurations', () => {
  it('writes each client its configuration for the agent URL, with the key header when the namespace needs one', () => {
    const url = agentUrl('http://gw.example.com:8080/', 'team a', 'weather');
    assert.equal(url, 'http://gw.example.com:8080/mcp/team%20a/weather');
    const open = clientConfigs('weather', url, false);
    assert.deepEqual(open.map((c) => c.kind), [...CLIENTS]);
    for (const c of open) {
      assert.ok(c.text.includes(url), `${c.kind} names the URL`);
      assert.ok(!c.text.includes('Authorization'), `${c.kind} sends no key to an open namespace`);
      if (c.format === 'json') JSON.parse(c.text);
    }
    const keyed = clientConfigs('weather', url, true);
    const cursor = JSON.parse(keyed.find((c) => c.kind === 'cursor')!.text) as { mcpServers: { weather: { url: string; headers: Record<string, string> } } };
    assert.deepEqual(cursor.mcpServers.weather, { url, headers: { Authorization: 'Bearer <consumer key>' } });
    const vscode = JSON.parse(keyed.find((c) => c.kind === 'vscode')!.text) as { servers: { weather: { type: string } } };
    assert.equal(vscode.servers.weather.type, 'http');
    assert.match(keyed.find((c) => c.kind === 'claude-code')!.text, /^claude mcp add --transport http 'weather' '.*' --header 'Authorization: Bearer <consumer key>'$/);
    assert.match(keyed.find((c) => c.kind === 'inspector')!.text, /--transport http --header 'Authorization: Bearer <consumer key>' --method tools\/list$/);
  });
});

describe('the allow-list encoding', () => {
  it('round-trips servers and tools (one entry per server, servers named with /), and no grant means everything', () => {
    const grants = [{ server: 'weather' }, { server: 'io.acme/maps', tool: 'route' }, { server: 'io.acme/maps', tool: 'geocode' }];
    assert.deepEqual(encodeAllow(grants), [{ server: 'weather' }, { server: 'io.acme/maps', tools: ['route', 'geocode'] }]);
    assert.deepEqual(decodeAllow(encodeAllow(grants)), grants);
    assert.deepEqual(encodeAllow([{ server: 'weather', tool: 'today' }, { server: 'weather' }]), [{ server: 'weather' }], 'the whole server covers its tools');
    assert.equal(encodeAllow([]), null);
    assert.deepEqual(decodeAllow(null), []);
  });
});

describe('the languages', () => {
  const english = leaves(en);
  const chinese = leaves(zhCN);

  it('have the same texts (plurals aside) with the same placeholders', () => {
    const enKeys = new Set([...english.keys()].map(base));
    const zhKeys = new Set([...chinese.keys()].map(base));
    assert.deepEqual([...enKeys].filter((k) => !zhKeys.has(k)), [], 'untranslated');
    assert.deepEqual([...zhKeys].filter((k) => !enKeys.has(k)), [], 'Chinese only');
    for (const [k, text] of chinese) {
      const source = english.get(k) ?? english.get(`${base(k)}_other`);
      assert.deepEqual(placeholders(text), placeholders(source ?? ''), `placeholders of ${k}`);
    }
    for (const [k, text] of chinese) assert.ok(!/^[\x20-\x7e]{12,}$/.test(text) || /[A-Z]{2,}|mcp|json|url/i.test(text), `${k} looks untranslated: ${text}`);
  });

  it('hold every key the console uses', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) { if (name !== 'locales') walk(p); } else if (/\.tsx?$/.test(name)) files.push(p);
      }
    };
    walk(SRC);
    const groups = new Set(Object.keys(en));
    const used = new Set<string>();
    for (const f of files) {
      for (const m of readFileSync(f, 'utf8').matchAll(/['"`]([a-zA-Z]+)\.([a-zA-Z0-9_.]+)['"`]/g)) {
        if (groups.has(m[1]!) && !m[2]!.includes('${')) used.add(`${m[1]}.${m[2]}`);
      }
    }
    const known = new Set([...english.keys()].map(base));
    // API field names and values that look like keys (`error('endpoint.namespace')`, audit actions such as `service.create`).
    const apiFields = new Set(['endpoint.namespace', 'service.create', 'service.update']);
    const missing = [...used].filter((k) => !apiFields.has(k) && !known.has(k) && ![...known].some((x) => x.startsWith(`${k}.`)));
    assert.deepEqual(missing, []);
    assert.ok(used.size > 400, `${used.size} keys found in the console's sources`);
  });
});
