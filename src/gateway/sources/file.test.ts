// FileSource on a real directory and file: load, reload on change (events and polling), broken
// files keep their last good version, added and removed files, renames, duplicate names.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RegistrySnapshot } from '../../model/snapshot.js';
import { FileSource } from './file.js';
import { waitFor } from '../../../test/support/gateway.js';
import { captureLogger } from '../../../test/support/logs.js';

function yamlServer(name: string, description: string, version = '1.0.0'): string {
  return [
    'server:', `  name: ${name}`, `  version: ${version}`, 'tools:', '  - name: lookup', `    description: ${description}`,
    '    args:', '      - { name: q, type: string, required: true, position: query }',
    '    requestTemplate:', `      url: https://${name}.example.com/lookup`, '      method: GET', '',
  ].join('\n');
}

function jsonServer(name: string, description: string): string {
  return JSON.stringify({
    server: { name, version: '2.0.0' },
    tools: [{ name: 'headlines', description, requestTemplate: { url: 'https://news.example.com/top', method: 'GET' } }],
  });
}

function servers(s: RegistrySnapshot | undefined): Record<string, string> {
  return Object.fromEntries((s?.mcpServers ?? []).map((m) => [m.server.name, m.spec.tools[0]?.description ?? '']));
}

describe('FileSource', () => {
  it('serves a directory of definitions and follows edits, breakage, additions and removals', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpgate-filesrc-'));
    writeFileSync(join(dir, 'weather.yaml'), yamlServer('weather', 'current weather'));
    writeFileSync(join(dir, 'news.json'), jsonServer('news', 'top headlines'));
    writeFileSync(join(dir, 'README.md'), 'not a definition');
    writeFileSync(join(dir, '.hidden.yaml'), 'not: loaded');
    const { logger, lines } = captureLogger();
    const source = new FileSource({ path: dir, logger, debounceMs: 50 });
    const seen: RegistrySnapshot[] = [];
    await source.start((s) => seen.push(s));
    try {
      assert.equal(seen.length, 1);
      assert.deepEqual(lines.filter((l) => Number(l['level']) >= 50), [], 'README.md and hidden files are not read');
      const first = seen[0]!;
      assert.equal(first.revision, 1);
      assert.deepEqual(first.namespaces, ['public']);
      assert.deepEqual(first.services, []);
      assert.deepEqual(first.consumers, []);
      assert.deepEqual(servers(first), { news: 'top headlines', weather: 'current weather' });
      const weather = first.mcpServers.find((m) => m.server.name === 'weather')!;
      assert.deepEqual({ ...weather.server, createdAt: 0, updatedAt: 0 }, {
        id: 'file:weather.yaml', namespace: 'public', name: 'weather', description: '', protocol: 'http', frontProtocol: 'mcp-streamable',
        endpoint: { type: 'none' }, enabled: true, passthrough: { headers: [], cookies: [] }, publishedVersion: '1.0.0', latestVersion: '1.0.0',
        createdAt: 0, updatedAt: 0,
      });
      assert.equal(first.mcpServers.find((m) => m.server.name === 'news')?.server.publishedVersion, '2.0.0');
      assert.equal(source.describe(), `directory ${dir}`);

      // An edit is delivered with the next revision.
      writeFileSync(join(dir, 'weather.yaml'), yamlServer('weather', 'weather now', '1.1.0'));
      await waitFor('the edit', () => servers(seen.at(-1))['weather'] === 'weather now', 30_000, 10);
      assert.equal(seen.at(-1)!.revision, 2);
      assert.equal(seen.at(-1)!.mcpServers.find((m) => m.server.name === 'weather')?.spec.version, '1.1.0');
      assert.equal(seen.at(-1)!.mcpServers.find((m) => m.server.name === 'weather')?.server.id, 'file:weather.yaml', 'the id is stable');

      // Invalid syntax: logged with the file and the field; the last good version stays.
      writeFileSync(join(dir, 'news.json'), '{"server": {"name": "news", ');
      const syntax = await waitFor('the syntax error', () => lines.find((l) => l['level'] === 50 && l['file'] === join(dir, 'news.json')), 30_000, 10);
      assert.equal(syntax['field'], 'definition');
      assert.match(String(syntax['msg']), /news\.json: .*not valid YAML or JSON.*serving its last good version/);
      // A definition that parses but is wrong names the field.
      writeFileSync(join(dir, 'news.json'), JSON.stringify({ server: { name: 'news' }, tools: [{ name: 'headlines', args: [{ name: 'x', position: 'nowhere' }] }] }));
      const field = await waitFor('the field error', () => lines.find((l) => l['level'] === 50 && l['field'] === 'tools[0].args[0].position'), 30_000, 10);
      assert.equal(field['file'], join(dir, 'news.json'));
      // A template that does not parse is refused as on publish.
      writeFileSync(join(dir, 'news.json'), JSON.stringify({ server: { name: 'news' }, tools: [{ name: 'headlines', requestTemplate: { url: 'https://x.example.com/{{ .args.q', method: 'GET' } }] }));
      const template = await waitFor('the template error', () => lines.find((l) => l['level'] === 50 && l['code'] === 'INVALID_TEMPLATE'), 30_000, 10);
      assert.match(String(template['field']), /^tools\[0\]/);
      assert.deepEqual(servers(seen.at(-1)), { news: 'top headlines', weather: 'weather now' });
      assert.equal(seen.at(-1)!.revision, 2, 'a broken file changes nothing that is served');

      // A new file is a new server; the broken one is still served in its last good version.
      writeFileSync(join(dir, 'library.yml'), yamlServer('library', 'find books'));
      await waitFor('the third server', () => seen.at(-1)!.mcpServers.length === 3, 30_000, 10);
      assert.deepEqual(servers(seen.at(-1)), { library: 'find books', news: 'top headlines', weather: 'weather now' });

      // Fixing the broken file serves it again; a second file naming the same server is refused.
      writeFileSync(join(dir, 'news.json'), jsonServer('news', 'fixed headlines'));
      await waitFor('the fix', () => servers(seen.at(-1))['news'] === 'fixed headlines', 30_000, 10);
      writeFileSync(join(dir, 'zz-weather-copy.yaml'), yamlServer('weather', 'a copy'));
      const duplicate = await waitFor('the duplicate', () => lines.find((l) => l['file'] === join(dir, 'zz-weather-copy.yaml') && l['field'] === 'server.name'), 30_000, 10);
      assert.match(String(duplicate['msg']), /already defined by .*weather\.yaml/);
      assert.equal(servers(seen.at(-1))['weather'], 'weather now');

      // Removing a file removes its server.
      rmSync(join(dir, 'zz-weather-copy.yaml'));
      rmSync(join(dir, 'library.yml'));
      await waitFor('the removal', () => seen.at(-1)!.mcpServers.length === 2 && !('library' in servers(seen.at(-1))), 30_000, 10);
      for (let i = 1; i < seen.length; i++) assert.equal(seen[i]!.revision, seen[i - 1]!.revision + 1);
    } finally {
      await source.stop();
    }
    const count = seen.length;
    writeFileSync(join(dir, 'weather.yaml'), yamlServer('weather', 'after stop'));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(seen.length, count, 'nothing is delivered after stop()');
  });

  it('polls modification times when file-system events are off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpgate-filesrc-'));
    writeFileSync(join(dir, 'weather.yaml'), yamlServer('weather', 'v1'));
    const { logger } = captureLogger();
    const source = new FileSource({ path: dir, logger, watch: false, pollMs: 100 });
    const seen: RegistrySnapshot[] = [];
    await source.start((s) => seen.push(s));
    try {
      writeFileSync(join(dir, 'weather.yaml'), yamlServer('weather', 'v2, longer'));
      await waitFor('the polled edit', () => servers(seen.at(-1))['weather'] === 'v2, longer', 30_000, 10);
      writeFileSync(join(dir, 'news.json'), jsonServer('news', 'polled'));
      await waitFor('the polled addition', () => servers(seen.at(-1))['news'] === 'polled', 30_000, 10);
    } finally {
      await source.stop();
    }
  });

  it('serves a single file, replaced in place or by rename, and keeps it when it disappears', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpgate-filesrc-'));
    const file = join(dir, 'weather.yaml');
    writeFileSync(file, yamlServer('weather', 'v1'));
    writeFileSync(join(dir, 'other.yaml'), yamlServer('other', 'not served'));
    const { logger, lines } = captureLogger();
    const source = new FileSource({ path: file, logger, debounceMs: 50 });
    const seen: RegistrySnapshot[] = [];
    await source.start((s) => seen.push(s));
    try {
      assert.deepEqual(servers(seen[0]), { weather: 'v1' });
      assert.equal(source.describe(), `file ${file}`);
      writeFileSync(file, yamlServer('weather', 'v2'));
      await waitFor('the edit', () => servers(seen.at(-1))['weather'] === 'v2', 30_000, 10);
      writeFileSync(`${file}.tmp`, yamlServer('weather', 'v3'));
      renameSync(`${file}.tmp`, file);
      await waitFor('the rename', () => servers(seen.at(-1))['weather'] === 'v3', 30_000, 10);
      const revision = seen.at(-1)!.revision;
      rmSync(file);
      await waitFor('the missing file', () => lines.find((l) => l['level'] === 50 && l['file'] === file), 30_000, 10);
      assert.equal(seen.at(-1)!.revision, revision);
      writeFileSync(file, yamlServer('weather', 'v4'));
      await waitFor('the file back', () => servers(seen.at(-1))['weather'] === 'v4', 30_000, 10);
    } finally {
      await source.stop();
    }
  });

  it('refuses to start on a path that does not exist', async () => {
    const { logger } = captureLogger();
    const source = new FileSource({ path: join(tmpdir(), 'mcpgate-no-such-dir', 'x.yaml'), logger });
    await assert.rejects(source.start(() => undefined), /cannot read the gateway configuration .*x\.yaml/);
    await source.stop();
  });
});
