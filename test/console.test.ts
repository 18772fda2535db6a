/**
 * The web console, end to end: Playwright (playwright-core) drives Debian's Chromium against the
 * built console served by a real `mcpgate serve` (registry auth on) with a recording backend.
 * Every page is saved as a 1280×800 screenshot (under docs/images/ with MCPGATE_UPDATE_SCREENSHOTS=1;
 * MCPGATE_SCREENSHOT_DIR picks a directory). Without /usr/bin/chromium the test skips, or fails under
 * MCPGATE_TEST_REQUIRE_SERVICES=1 (CI installs it: .ci/run).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { BrowserContext, Page } from 'playwright-core';
import { gatewayDirectory } from '../src/registry/http/native/console-routes.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_FLAGS, ensureConsoleBuilt, screenshotDir } from './support/browser.js';
import { waitFor } from './support/gateway.js';
import { http } from './support/http.js';
import { startBackend, startStack } from './support/stack.js';

const SHOTS = screenshotDir();

const HIGRESS_YAML = `server:
  name: library
  config:
    region: eu
tools:
  - name: search_books
    description: Find books by title or author.
    args:
      - name: q
        description: Words of the title or the author's name
        type: string
        required: true
      - name: limit
        type: integer
        default: 10
    requestTemplate:
      url: /books/search
      method: GET
      argsToUrlParam: true
    responseTemplate:
      body: |
        {{- range .items }}
        - {{ .title }} ({{ .author }})
        {{- end }}
  - name: get_book
    description: One book by its id.
    args:
      - name: id
        type: string
        required: true
        position: path
    requestTemplate:
      url: /books/{id}
      method: GET
`;

async function mcpTools(url: string): Promise<{ name: string; description?: string }[]> {
  const client = new Client({ name: 'console-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  try {
    return (await client.listTools()).tools;
  } finally {
    await transport.terminateSession().catch(() => undefined);
    await client.close();
  }
}

const skip = browserSkipReason();

test('the console drives the registry and the gateway end to end', { skip, timeout: 240_000 }, async (t) => {
  ensureConsoleBuilt();
  mkdirSync(SHOTS, { recursive: true });
  const { chromium } = await import('playwright-core');
  const backend = await startBackend((r, res) => {
    const q = new URLSearchParams(r.query);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ city: q.get('city'), temp: 21, unit: 'C' }));
  });
  const stack = await startStack({ auth: true });
  const R = stack.registryUrl;
  const login = await http<{ accessToken: string }>('POST', `${R}/api/v1/auth/login`, { body: { username: 'admin', password: 'admin-password-1' } });
  const token = login.body.accessToken;
  const api = <T = any>(method: string, p: string, body?: unknown) => http<T>(method, `${R}/api/v1${p}`, { token, body }); // eslint-disable-line @typescript-eslint/no-explicit-any

  // The in-process gateway, as startServe would attach it (see docs/console.md): attached here if serve does not yet.
  const gw = stack.stack.gateway;
  const listed = (await api<{ items: { kind: string }[] }>('GET', '/gateways')).body.items.some((g) => g.kind === 'in-process');
  if (!listed) {
    const sessions = (gw.handler as unknown as { opts: { sessions: { size?: number } } }).opts.sessions;
    gatewayDirectory(stack.stack.registry.services).attachLocal({
      id: 'serve (in-process)',
      status: () => ({ revision: gw.handler.current.revision, sessions: sessions.size, streams: gw.handler.openStreams, address: stack.gatewayUrl, source: 'in-process registry' }),
    });
  }

  const profile = mkdtempSync(join(tmpdir(), 'mcpgate-chromium-'));
  let context: BrowserContext | undefined;
  const pageErrors: string[] = [];
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, viewport: { width: 1280, height: 800 },
    });
    const page: Page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const shot = (name: string) => page.screenshot({ path: join(SHOTS, `console-${name}.png`), style: '.notices { display: none !important; }' });
    const nav = (name: string) => page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name });
    const toast = (text: string | RegExp) => page.locator('.notice').filter({ hasText: text }).first().waitFor();
    const draftTools = async (version: string) => (await api<{ spec: { tools: { name: string; description: string }[] } }>('GET', `/namespaces/team-a/mcp-servers/weather/versions/${version}`)).body.spec.tools;

    await t.test('log in (a wrong password keeps the form and says why)', async () => {
      await page.goto(`${R}/`);
      await page.getByLabel('Username').waitFor();
      await shot('login');
      await page.getByLabel('Username').fill('admin');
      await page.getByLabel('Password').fill('wrong-password');
      await page.getByLabel('Password').press('Enter');
      await page.getByText('Login failed').waitFor();
      assert.equal(await page.getByLabel('Username').inputValue(), 'admin');
      await page.getByLabel('Password').fill('admin-password-1');
      await page.getByLabel('Password').press('Enter');
      await page.getByRole('heading', { name: 'MCP servers' }).waitFor();
    });

    await t.test('create a namespace and switch to it', async () => {
      await nav('Namespaces').click();
      await page.getByRole('button', { name: 'New namespace' }).click();
      await page.getByLabel('Namespace id').fill('team-a');
      await page.getByLabel('Display name').fill('Team A');
      await page.getByLabel('Display name').press('Enter');
      await page.getByRole('heading', { name: 'Services' }).waitFor();
      assert.equal(await page.getByLabel('Namespace', { exact: true }).inputValue(), 'team-a');
      assert.equal((await api('GET', '/namespaces/team-a')).status, 200);
      await page.getByLabel('Namespace', { exact: true }).selectOption('public');
      await page.waitForURL(/\/ns\/public\/services$/);
      await page.getByLabel('Namespace', { exact: true }).selectOption('team-a');
      await page.waitForURL(/\/ns\/team-a\/services$/);
      await nav('Namespaces').click();
      await page.getByRole('cell', { name: 'Team A' }).waitFor();
      await shot('namespaces');
    });

    await t.test('create a service, register a persistent instance, change weight, disable and enable', async () => {
      await nav('Services').click();
      await page.getByRole('button', { name: 'New service' }).click();
      // Esc closes a dialog and keeps nothing half-done.
      await page.getByLabel('Service name').waitFor();
      await page.keyboard.press('Escape');
      await page.getByLabel('Service name').waitFor({ state: 'hidden' });
      await page.getByRole('button', { name: 'New service' }).click();
      await page.getByLabel('Service name').fill('weather-api');
      await page.getByRole('button', { name: 'Create service' }).click();
      await page.getByRole('heading', { name: 'weather-api' }).waitFor();
      await page.getByLabel('IP or host').fill('127.0.0.1');
      await page.getByLabel('Port', { exact: true }).fill(String(backend.port));
      await page.getByLabel('Health check').selectOption('tcp');
      await page.getByRole('button', { name: 'Register instance' }).click();
      const row = page.getByRole('row').filter({ hasText: `127.0.0.1:${backend.port}` });
      await row.waitFor();
      await row.getByText('healthy', { exact: true }).waitFor();
      await row.getByLabel(/Weight of/).fill('2');
      await row.getByRole('button', { name: 'Set' }).click();
      await toast(/Weight of .* set to 2/);
      await row.getByRole('button', { name: 'Disable' }).click();
      await row.getByText('disabled', { exact: true }).waitFor();
      await row.getByRole('button', { name: 'Enable' }).click();
      await row.getByText('enabled', { exact: true }).waitFor();
      const svc = await api<{ instances: { weight: number; enabled: boolean; ephemeral: boolean; healthCheck: { type: string } }[] }>('GET', '/namespaces/team-a/services/DEFAULT_GROUP/weather-api');
      assert.equal(svc.body.instances.length, 1);
      assert.deepEqual([svc.body.instances[0]?.weight, svc.body.instances[0]?.enabled, svc.body.instances[0]?.ephemeral, svc.body.instances[0]?.healthCheck.type], [2, true, false, 'tcp']);
      await shot('service');
      await nav('Services').click();
      await page.getByText('1/1 healthy').waitFor();
      await shot('services');
    });

    await t.test('create an MCP server that references the service', async () => {
      await nav('MCP servers').click();
      await page.getByRole('button', { name: 'New MCP server' }).click();
      await page.getByLabel('Server name').fill('weather');
      await page.getByLabel('Description', { exact: true }).fill('Weather of the cities we serve.');
      await page.getByLabel('Backend protocol').selectOption('http');
      await page.getByLabel('Endpoint type').selectOption('service');
      await page.getByLabel('Service', { exact: true }).selectOption({ label: 'weather-api (1/1 healthy)' });
      await page.getByRole('button', { name: 'Create MCP server' }).click();
      await page.getByRole('heading', { name: /weather/ }).first().waitFor();
      await page.getByText('not published').first().waitFor();
      const s = await api<{ endpoint: unknown; publishedVersion: string | null; latestVersion: string }>('GET', '/namespaces/team-a/mcp-servers/weather');
      assert.deepEqual(s.body.endpoint, { type: 'service', namespace: 'team-a', group: 'DEFAULT_GROUP', service: 'weather-api' });
      assert.equal(s.body.publishedVersion, null);
      assert.equal(s.body.latestVersion, '1.0.0');
    });

    await t.test('write a tool in the editor; a bad schema and a broken template show their error and save nothing', async () => {
      await page.getByRole('link', { name: 'Add tool' }).click();
      await page.getByLabel('Tool name').fill('get_weather');
      await page.getByLabel('Tool description').fill('Current weather for a city.');
      await page.getByRole('button', { name: 'Add argument' }).click();
      const arg = page.getByRole('group', { name: 'Argument 1' });
      await arg.getByLabel('Name').fill('city');
      await arg.getByLabel('Description').fill('City name, e.g. Paris');
      await arg.getByLabel('Required').check();
      await page.getByLabel('URL template').fill('/weather');
      await page.getByLabel('Argument city', { exact: true }).selectOption('query');
      await page.getByLabel('Result text').selectOption('body');
      await page.getByLabel('Response template', { exact: true }).fill('{{ .city }}: {{ .temp }} {{ .unit }}');
      // The live preview shows the tools/list entry.
      await page.getByTestId('tool-card').getByText('Current weather for a city.').waitFor();
      await page.getByRole('button', { name: 'tools/list JSON' }).click();
      const entry = JSON.parse(await page.getByTestId('tools-list-entry').innerText()) as Record<string, unknown>;
      assert.deepEqual(entry, {
        name: 'get_weather', description: 'Current weather for a city.',
        inputSchema: { type: 'object', properties: { city: { type: 'string', description: 'City name, e.g. Paris' } }, required: ['city'] },
      });
      await page.getByRole('button', { name: 'Card' }).click();

      // A JSON Schema that is not one: the registry's answer is shown, nothing is saved.
      await page.getByRole('button', { name: 'JSON', exact: true }).click();
      const schemaBox = page.getByLabel('Input schema (JSON Schema)');
      const good = await schemaBox.inputValue();
      await schemaBox.fill('{"type": "object", "properties": {"city": {"type": "strung"}}, "required": ["city"]}');
      await page.getByText(/must be equal to one of the allowed values/).first().waitFor();
      await page.getByRole('button', { name: 'Save to draft' }).first().click();
      await page.getByText('Schema error').waitFor();
      assert.equal((await draftTools('1.0.0')).length, 0);
      // Not JSON at all: caught before asking the registry, with the position.
      await schemaBox.fill('{"type": "object",\n  "properties": {');
      await page.getByText(/not valid JSON: line 2/).waitFor();
      await schemaBox.fill(good);
      await page.getByRole('button', { name: 'Form', exact: true }).click();
      assert.equal(await page.getByRole('group', { name: 'Argument 1' }).getByLabel('Name').inputValue(), 'city');

      // A template that does not parse: the error is shown at its line and column, nothing is saved.
      await page.getByLabel('Response template', { exact: true }).fill('{{ .city }}: {{ .temp ');
      const templateError = page.locator('.template-error').filter({ hasText: 'Line 1, column' });
      await templateError.waitFor();
      await page.getByRole('button', { name: 'Save to draft' }).first().click();
      await page.getByText('Template error').waitFor();
      assert.equal((await draftTools('1.0.0')).length, 0);
      assert.equal(await page.getByLabel('Tool name').inputValue(), 'get_weather', 'the form keeps its input after a failed save');
      await page.getByRole('button', { name: 'Go to the field' }).click();
      assert.equal(await page.evaluate<string>('document.activeElement && document.activeElement.value'), '{{ .city }}: {{ .temp ');
      await shot('tool-errors');
      await page.getByLabel('Response template', { exact: true }).fill('{{ .city }}: {{ .temp }} {{ .unit }}');
      await templateError.waitFor({ state: 'detached' });
      await page.getByRole('button', { name: 'Save to draft' }).first().click();
      await toast('Tool get_weather saved in draft 1.0.0');
      const saved = await draftTools('1.0.0');
      assert.equal(saved.length, 1);
      assert.equal(saved[0]?.description, 'Current weather for a city.');
    });

    await t.test('try the tool from the draft: backend request, its answer and the MCP result', async () => {
      const before = backend.requests.length;
      await page.getByRole('button', { name: 'Run' }).click();
      await page.getByText(/missing required argument 'city'/).waitFor();
      assert.equal(backend.requests.length, before, 'invalid arguments reach no backend');
      await page.getByLabel('city *').fill('Paris');
      await page.getByRole('button', { name: 'Run' }).click();
      await page.getByTestId('try-result').waitFor();
      const request = await page.getByTestId('try-request').innerText();
      assert.match(request, new RegExp(`^GET http://127\\.0\\.0\\.1:${backend.port}/weather\\?city=Paris`));
      assert.match(await page.getByTestId('try-response-body').innerText(), /"temp":21/);
      const result = JSON.parse(await page.getByTestId('try-mcp-result').innerText()) as { content: { text: string }[] };
      assert.equal(result.content[0]?.text, 'Paris: 21 C');
      assert.equal(backend.requests.at(-1)?.query, 'city=Paris');
      await page.evaluate('window.scrollTo(0, 600)');
      await page.locator('.editor-side').evaluate((e: { scrollTop: number; scrollHeight: number }) => { e.scrollTop = e.scrollHeight; });
      await shot('try-it');
      await page.evaluate('window.scrollTo(0, 0)');
      await page.locator('.editor-side').evaluate((e: { scrollTop: number }) => { e.scrollTop = 0; });
      await shot('tool-editor');
      const published = await api<{ publishedVersion: string | null }>('GET', '/namespaces/team-a/mcp-servers/weather');
      assert.equal(published.body.publishedVersion, null, 'trying publishes nothing');
    });

    await t.test('a draft changed by someone else since the editor opened it: saving says so, changes nothing, and a reload shows their change', async () => {
      const draft = (await api<{ spec: { tools: { description: string }[] } }>('GET', '/namespaces/team-a/mcp-servers/weather/versions/1.0.0')).body;
      const theirs = { ...draft.spec, tools: draft.spec.tools.map((x) => ({ ...x, description: 'Changed by a colleague.' })) };
      assert.equal((await api('PUT', '/namespaces/team-a/mcp-servers/weather/versions/1.0.0', { spec: theirs })).status, 200);
      await page.getByLabel('Tool description').fill('My concurrent edit.');
      await page.getByRole('button', { name: 'Save to draft' }).first().click();
      const alert = page.getByRole('alert').filter({ hasText: 'Changed by someone else: reload' });
      await alert.waitFor();
      assert.match(await alert.innerText(), /was changed by someone else since you opened it/);
      assert.equal((await draftTools('1.0.0'))[0]?.description, 'Changed by a colleague.', 'their change stands');
      await page.reload();
      assert.equal(await page.getByLabel('Tool description').inputValue(), 'Changed by a colleague.');
      await page.getByLabel('Tool description').fill('Current weather for a city.');
      await page.getByRole('button', { name: 'Save to draft' }).first().click();
      await waitFor('the save after the reload', async () => (await draftTools('1.0.0'))[0]?.description === 'Current weather for a city.');
      await page.getByText('· unsaved changes').waitFor({ state: 'detached' });
    });

    const url = `${stack.gatewayUrl}/mcp/team-a/weather`;

    await t.test('publish: an MCP client through the gateway sees the tool', async () => {
      await page.getByRole('link', { name: 'weather' }).first().click();
      await page.getByRole('link', { name: 'Versions' }).click();
      await page.getByRole('button', { name: 'Publish 1.0.0' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Publish' }).click();
      await toast('Version 1.0.0 published');
      const tools = await waitFor('the published tool', async () => {
        const list = await mcpTools(url).catch(() => []);
        return list.find((x) => x.name === 'get_weather');
      });
      assert.equal(tools.description, 'Current weather for a city.');
    });

    await t.test('edit the description in a new draft and publish: the client sees it', async () => {
      await page.getByRole('link', { name: 'weather' }).first().click();
      await page.getByRole('button', { name: 'New draft version' }).click();
      assert.equal(await page.getByLabel('Version', { exact: true }).inputValue(), '1.0.1');
      await page.getByLabel('Version', { exact: true }).press('Enter');
      await page.getByText('of draft 1.0.1').waitFor();
      await shot('server');
      await page.getByRole('link', { name: 'get_weather' }).click();
      await page.getByLabel('Tool description').fill('Current weather for a city: temperature and unit.');
      await page.getByRole('button', { name: 'Save to draft' }).first().click();
      await toast('Tool get_weather saved in draft 1.0.1');
      await page.getByRole('link', { name: 'weather' }).first().click();
      await page.getByRole('link', { name: 'Versions' }).click();
      await page.getByRole('button', { name: 'Publish 1.0.1' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Publish' }).click();
      await toast('Version 1.0.1 published');
      await waitFor('the new description', async () => (await mcpTools(url)).find((x) => x.description === 'Current weather for a city: temperature and unit.'));
      // The diff of the two versions names the changed description.
      await page.getByLabel('From').selectOption('1.0.0');
      await page.getByLabel('To', { exact: true }).selectOption('1.0.1');
      await page.getByRole('button', { name: 'Compare' }).click();
      await page.getByTestId('diff').getByText('tools[0].description').waitFor();
      await shot('versions');
    });

    await t.test('roll back: the client sees the previous description', async () => {
      await page.getByRole('button', { name: 'Roll back', exact: true }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Roll back' }).click();
      await toast('Rolled back');
      await waitFor('the previous description', async () => (await mcpTools(url)).find((x) => x.description === 'Current weather for a city.'));
      assert.equal((await api<{ publishedVersion: string }>('GET', '/namespaces/team-a/mcp-servers/weather')).body.publishedVersion, '1.0.0');
      await nav('MCP servers').click();
      await page.getByRole('cell', { name: /weather/ }).first().waitFor();
      await shot('servers');
    });

    await t.test('import a Higress definition as a draft after a preview', async () => {
      await nav('Import').click();
      await page.getByLabel('Definition').fill(HIGRESS_YAML);
      await page.getByRole('button', { name: 'Preview' }).click();
      const preview = page.getByTestId('import-preview');
      await preview.getByText('search_books').waitFor();
      await preview.getByText('get_book').waitFor();
      await shot('import');
      await preview.getByRole('button', { name: 'Import as draft' }).click();
      await page.getByRole('heading', { name: /library/ }).first().waitFor();
      const s = await api<{ publishedVersion: string | null; versions: { status: string; toolCount: number }[] }>('GET', '/namespaces/team-a/mcp-servers/library');
      assert.equal(s.body.publishedVersion, null);
      assert.deepEqual(s.body.versions.map((v) => [v.status, v.toolCount]), [['draft', 2]]);
    });

    await t.test('gateways: the in-process gateway with its revision and sessions, and a replica that reports', async () => {
      const client = new Client({ name: 'console-test-session', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(url), { reconnectionOptions: { maxRetries: 0, initialReconnectionDelay: 1000, maxReconnectionDelay: 1000, reconnectionDelayGrowFactor: 1 } }));
      try {
        const registryRevision = (await api<{ registryRevision: number }>('GET', '/gateways')).body.registryRevision;
        assert.equal((await api('POST', '/gateways/heartbeat', { id: 'gw-eu-1', revision: registryRevision - 1, sessions: 12, streams: 3, address: 'http://10.0.3.7:8080', source: 'registry http://registry:8848' })).status, 200);
        await nav('Gateways').click();
        const localId = (await api<{ items: { id: string; kind: string }[] }>('GET', '/gateways')).body.items.find((g) => g.kind === 'in-process')?.id ?? '';
        const table = page.getByTestId('gateways');
        await table.getByText(localId, { exact: true }).waitFor();
        await table.getByText('gw-eu-1').waitFor();
        const local = table.getByRole('row').filter({ hasText: localId });
        await local.getByText('current').waitFor();
        await waitFor('the open session counted', async () => {
          await page.getByRole('button', { name: 'Refresh' }).click();
          return (await local.getByRole('cell').nth(3).innerText()).trim() !== '0';
        });
        await shot('gateways');
      } finally {
        await client.close();
      }
    });

    await t.test('admin: users and roles, API tokens, consumer keys', async () => {
      await nav('Admin').click();
      await page.getByRole('button', { name: 'New user' }).click();
      await page.getByLabel('Username').fill('alice');
      await page.getByLabel('Password', { exact: true }).fill('alice-password-1');
      await page.getByRole('button', { name: 'Add role' }).click();
      await page.getByLabel('Namespace 1', { exact: true }).selectOption('team-a');
      await page.getByLabel('Role 1', { exact: true }).selectOption('editor');
      await page.getByRole('button', { name: 'Create user' }).click();
      await page.getByRole('cell', { name: 'alice' }).waitFor();
      const users = await api<{ items: { username: string; roles: unknown[] }[] }>('GET', '/users');
      assert.deepEqual(users.body.items.find((u) => u.username === 'alice')?.roles, [{ namespace: 'team-a', role: 'editor' }]);
      await shot('admin');
      await page.getByRole('tab', { name: 'API tokens' }).click();
      await page.getByLabel('Token name').fill('ci');
      await page.getByLabel('Token name').press('Enter');
      assert.match(await page.getByTestId('secret').innerText(), /^mgt_/);
      await page.getByRole('tab', { name: 'Consumer keys' }).click();
      await page.getByLabel('Consumer name').fill('cursor');
      await page.getByLabel('Allowed servers or tools').fill('weather; io.acme/maps: route, geocode');
      await page.getByLabel('Consumer name').press('Enter');
      assert.match(await page.getByTestId('secret').innerText(), /^mgk_/);
      const consumers = await api<{ items: { name: string; allow: unknown[] }[] }>('GET', '/namespaces/team-a/consumers');
      assert.deepEqual(consumers.body.items.map((c) => [c.name, c.allow]), [['cursor', [{ server: 'weather' }, { server: 'io.acme/maps', tools: ['route', 'geocode'] }]]]);
      await page.getByRole('cell', { name: 'weather; io.acme/maps: route, geocode' }).waitFor();
    });

    await t.test('errors never leave a blank page; an expired session goes back to the login', async () => {
      await page.goto(`${R}/ns/team-a/servers/no-such-server`);
      await page.getByRole('alert').getByText(/does not exist/).waitFor();
      await page.goto(`${R}/ns/team-a/nothing-here`);
      await page.getByRole('heading', { name: 'Page not found' }).waitFor();
      await page.evaluate(`sessionStorage.setItem('mcpgate.console.token', 'not-a-token')`);
      await page.goto(`${R}/ns/team-a/servers`);
      await page.getByLabel('Username').waitFor();
    });

    await t.test('narrow window (420 px): navigation behind a menu button', async () => {
      await page.getByLabel('Username').fill('admin');
      await page.getByLabel('Password').fill('admin-password-1');
      await page.getByLabel('Password').press('Enter');
      await page.getByRole('heading', { name: 'MCP servers' }).waitFor();
      await page.setViewportSize({ width: 420, height: 800 });
      await nav('Services').waitFor({ state: 'hidden' });
      await page.getByRole('button', { name: 'Menu' }).click();
      await nav('Services').click();
      await page.getByRole('heading', { name: 'Services' }).waitFor();
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow} px at 420 px`);
      await shot('narrow');
    });

    await t.test('change my password: the current one is asked, other sessions end, this one goes on', async () => {
      await page.setViewportSize({ width: 1280, height: 800 });
      await nav('Admin').click();
      await page.getByRole('button', { name: 'Change my password' }).click();
      await page.getByLabel('Current password').fill('wrong-password');
      await page.getByLabel('New password', { exact: true }).fill('admin-password-2');
      await page.getByLabel('New password again').fill('admin-password-2');
      await page.getByRole('button', { name: 'Change password' }).click();
      await page.getByText(/your current password is wrong/).first().waitFor();
      await page.getByLabel('Current password').fill('admin-password-1');
      await page.getByRole('button', { name: 'Change password' }).click();
      await toast(/Password changed/);
      assert.equal((await api('GET', '/namespaces')).status, 401, "the test's own login (another session) was revoked");
      await nav('Namespaces').click();
      await page.getByRole('cell', { name: 'Team A' }).waitFor();
    });

    assert.deepEqual(pageErrors, [], 'no uncaught error in the page');
  } finally {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
    await stack.close();
    await backend.close();
  }
});
