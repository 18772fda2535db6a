/**
 * The web console, end to end: Playwright (playwright-core) drives Debian's Chromium against the
 * built console served by a real `mcpgate serve` (registry auth on) with a recording backend and
 * MCP clients (the official SDK) on the gateway. The operator's workflows: keyboard-only, the
 * unsaved-changes guard, explicit rollback and the publish history, the click counts of the main
 * task, large catalogs, client configurations, consumer keys, validation, service detail.
 * Accessibility, languages, phones and screenshots: console-a11y.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Locator, Page } from 'playwright-core';
import { browserSkipReason, ensureConsoleBuilt, openBrowser, TEXTS } from './support/browser.js';
import { freePort, waitFor } from './support/gateway.js';
import { adminApi, http } from './support/http.js';
import { startBackend, startStack } from './support/stack.js';

const T = TEXTS.en;
/** `{{x}}` placeholders of a text filled in. */
const fill = (text: string, vars: Record<string, string | number> = {}) => text.replace(/\{\{(\w+)\}\}/g, (_, k: string) => String(vars[k] ?? ''));

async function mcpTools(url: string, key?: string): Promise<{ name: string; description?: string }[]> {
  const client = new Client({ name: 'console-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url), key ? { requestInit: { headers: { authorization: `Bearer ${key}` } } } : {});
  await client.connect(transport);
  try {
    return (await client.listTools()).tools;
  } finally {
    await transport.terminateSession().catch(() => undefined);
    await client.close();
  }
}

/** Press Tab (or Shift+Tab) until the focused element matches; answers how many presses it took. */
async function tabTo(page: Page, matches: (el: { tag: string; text: string; label: string }) => boolean, opts: { back?: boolean; max?: number } = {}): Promise<number> {
  for (let i = 1; i <= (opts.max ?? 120); i++) {
    await page.keyboard.press(opts.back ? 'Shift+Tab' : 'Tab');
    const el = await page.evaluate<{ tag: string; text: string; label: string }>(`(() => {
      const a = document.activeElement;
      if (!a) return { tag: '', text: '', label: '' };
      const label = (a.id && document.querySelector('label[for="' + CSS.escape(a.id) + '"]')?.textContent) || a.getAttribute('aria-label') || '';
      return { tag: a.tagName.toLowerCase(), text: (a.textContent ?? '').trim(), label: label.trim() };
    })()`);
    if (matches(el)) return i;
  }
  throw new Error('focus never reached the element by Tab');
}

/** A Higress definition with `n` tools (a large catalog). */
function bigCatalog(n: number): string {
  const tools = Array.from({ length: n }, (_, i) => `  - name: op_${String(i).padStart(3, '0')}
    description: ${i === 7 ? 'A long description. '.repeat(12) : `Operation number ${i} of the catalog.`}
    args: []
    requestTemplate:
      url: /ops/${i}
      method: GET
`).join('');
  return `server:\n  name: catalog\ntools:\n${tools}`;
}

const skip = browserSkipReason();

test('the console: operator workflows end to end', { skip, timeout: 420_000 }, async (t) => {
  ensureConsoleBuilt();
  const backend = await startBackend((r, res) => {
    const q = new URLSearchParams(r.query);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ city: q.get('city'), temp: 21, unit: 'C' }));
  });
  const stack = await startStack({ auth: true });
  const R = stack.registryUrl;
  const { api } = await adminApi(R);
  const browser = await openBrowser();
  const { page, pageErrors } = browser;
  const nav = (name: string) => page.getByRole('navigation', { name: T.nav.label }).getByRole('link', { name });
  const toast = (text: string | RegExp) => page.locator('.notice').filter({ hasText: text }).first().waitFor();
  const heading = (name: string | RegExp) => page.getByRole('heading', { level: 1, name }).waitFor();
  const server = async (name: string) => (await api<{ publishedVersion: string | null; rollbackTarget: string | null; versions: { version: string; status: string; publishedAt: number | null }[] }>('GET', `/namespaces/team-a/mcp-servers/${name}`)).body;
  const draftTools = async (version: string) => (await api<{ spec: { tools: { name: string; description: string; enabled: boolean }[] } }>('GET', `/namespaces/team-a/mcp-servers/weather/versions/${version}`)).body.spec.tools;
  const url = `${stack.gatewayUrl}/mcp/team-a/weather`;
  let clicks = 0;
  /** A mouse click that counts (for the click counts of the main tasks). */
  const click = async (l: Locator) => {
    clicks++;
    await l.click();
  };

  try {
    await t.test('log in (a wrong password keeps the form and says why)', async () => {
      await page.goto(`${R}/`);
      await page.getByLabel(T.login.username).waitFor();
      assert.equal(await page.title(), `${T.login.title} · mcpgate`);
      await page.getByLabel(T.login.username).fill('admin');
      await page.getByLabel(T.login.password).fill('wrong-password');
      await page.getByLabel(T.login.password).press('Enter');
      await page.getByText(T.login.failed).waitFor();
      assert.equal(await page.getByLabel(T.login.username).inputValue(), 'admin');
      await page.getByLabel(T.login.password).fill('admin-password-1');
      await page.getByLabel(T.login.password).press('Enter');
      await heading(T.servers.title);
    });

    await t.test('dialogs: the first field has the focus, Enter submits, Escape cancels and the focus returns', async () => {
      await nav(T.nav.namespaces).click();
      await heading(T.namespaces.title);
      assert.equal(await page.title(), `${T.namespaces.title} · mcpgate`, 'each page names the tab');
      const opener = page.getByRole('button', { name: T.namespaces.new });
      await opener.click();
      await page.getByLabel(T.namespaces.idLabel).waitFor();
      assert.equal(await page.evaluate<string | undefined>('document.activeElement?.id'), await page.getByLabel(T.namespaces.idLabel).getAttribute('id'), 'the first field, not the close button, has the focus');
      await page.keyboard.press('Escape');
      await page.getByRole('dialog').waitFor({ state: 'detached' }).catch(() => page.getByLabel(T.namespaces.idLabel).waitFor({ state: 'hidden' }));
      assert.equal(await page.evaluate<string | undefined>('document.activeElement?.textContent'), T.namespaces.new, 'the focus is back on the button that opened it');
      await page.keyboard.press('Enter');
      await page.keyboard.type('team-a');
      await page.keyboard.press('Tab');
      await page.keyboard.type('Team A');
      await page.keyboard.press('Enter');
      await heading(T.services.title);
      assert.equal(await page.getByLabel(T.shell.namespace, { exact: true }).inputValue(), 'team-a');
      assert.equal((await api('GET', '/namespaces/team-a')).status, 200);
    });

    await t.test('navigation moves the focus to the page heading and announces the page', async () => {
      await nav(T.nav.servers).click();
      await heading(T.servers.title);
      await waitFor('the heading focused', () => page.evaluate<string | false>("document.activeElement?.tagName === 'H1' && document.activeElement.textContent"));
      await waitFor('the page announced', async () => (await page.getByTestId('announcer').innerText()) === T.servers.title);
      await nav(T.nav.services).click();
      await heading(T.services.title);
    });

    await t.test('services: register instances; a failing health check says why; the service lists the MCP servers using it', async () => {
      await page.getByRole('button', { name: T.services.new }).click();
      await page.keyboard.type('weather-api');
      await page.keyboard.press('Enter');
      await heading('weather-api');
      await page.getByLabel(T.service.ip).fill('127.0.0.1');
      await page.getByLabel(T.service.port, { exact: true }).fill(String(backend.port));
      await page.getByLabel(T.service.checkType).selectOption('tcp');
      await page.getByRole('button', { name: T.service.register }).click();
      const row = page.getByRole('row').filter({ hasText: `127.0.0.1:${backend.port}` });
      await row.getByText(T.service.healthy, { exact: true }).waitFor();
      await row.getByLabel(/Weight of/).fill('2');
      await row.getByRole('button', { name: T.service.set }).click();
      await toast(/Weight of .* set to 2/);
      // An instance nothing listens on: unhealthy, and the console says why.
      const closed = await freePort();
      await page.getByLabel(T.service.ip).fill('127.0.0.1');
      await page.getByLabel(T.service.port, { exact: true }).fill(String(closed));
      await page.getByLabel(T.service.interval).fill('500');
      await page.getByLabel(T.service.unhealthyAfter).fill('1');
      await page.getByRole('button', { name: T.service.register }).click();
      const bad = page.getByRole('row').filter({ hasText: `127.0.0.1:${closed}` });
      await bad.getByTestId('health-reason').filter({ hasText: /connection refused/ }).waitFor({ timeout: 20_000 });
      assert.match(await bad.getByTestId('health-reason').innerText(), new RegExp(`TCP connect to port ${closed}: connection refused \\(ECONNREFUSED\\)`));
      await bad.getByRole('button', { name: T.service.deregister }).click();
      await page.getByRole('dialog').getByRole('button', { name: T.service.deregister }).click();
      await bad.waitFor({ state: 'detached' });
      await page.getByTestId('used-by').getByText(T.service.usedByNone).waitFor();
    });

    await t.test('create an MCP server that references the service', async () => {
      await nav(T.nav.servers).click();
      await page.getByRole('button', { name: T.servers.new }).click();
      await page.getByLabel(T.servers.nameLabel).fill('weather');
      await page.getByLabel(T.servers.description, { exact: true }).fill('Weather of the cities we serve.');
      await page.getByLabel(T.endpoint.type).selectOption('service');
      await page.getByLabel(T.endpoint.serviceLabel, { exact: true }).selectOption({ label: 'weather-api (1/1 healthy)' });
      await page.getByRole('button', { name: T.servers.create }).click();
      await heading(/weather/);
      const s = await api<{ endpoint: unknown; publishedVersion: string | null; latestVersion: string }>('GET', '/namespaces/team-a/mcp-servers/weather');
      assert.deepEqual(s.body.endpoint, { type: 'service', namespace: 'team-a', group: 'DEFAULT_GROUP', service: 'weather-api' });
      assert.equal(s.body.latestVersion, '1.0.0');
    });

    await t.test('the tool editor: every problem at once, each once and beside its field, with nothing saved', async () => {
      await page.getByRole('link', { name: T.tools.add }).click();
      await page.getByLabel(T.editor.name).fill('get_weather');
      await page.getByLabel(T.editor.description).fill('Current weather for a city.');
      await page.getByRole('button', { name: T.editor.addArgument }).click();
      const arg = page.getByRole('group', { name: fill(T.editor.argumentN, { n: 1 }) });
      await arg.getByLabel(T.editor.argName).fill('city');
      await arg.getByLabel(T.editor.argDescription).fill('City name, e.g. Paris');
      await arg.getByLabel(T.editor.argRequired).check();
      await page.getByLabel(fill(T.editor.argument, { name: 'city' }), { exact: true }).selectOption('query');
      await page.getByLabel(T.editor.resultText).selectOption('body');
      // Two broken templates: both shown at once, each beside its own field, and once only.
      await page.getByLabel(T.editor.url).fill('/weather/{{ .args.city ');
      await page.getByLabel(T.editor.responseTemplate, { exact: true }).fill('{{ .city }}: {{ .temp ');
      await page.getByTestId('problems').getByText(fill(T.editor.problems_other, { count: 2 })).waitFor();
      const errors = page.locator('.template-error');
      await waitFor('both errors beside their fields', async () => (await errors.count()) === 2);
      assert.equal(await page.locator('.field.has-error').filter({ has: page.getByLabel(T.editor.url) }).locator('.template-error').count(), 1);
      assert.equal(await page.locator('.field.has-error').filter({ has: page.getByLabel(T.editor.responseTemplate, { exact: true }) }).locator('.template-error').count(), 1);
      assert.equal(await page.getByText(/unclosed action|unexpected/).count(), 2, 'each problem once, not repeated at the top');
      await page.getByRole('button', { name: T.editor.save }).first().click();
      await page.getByTestId('problems').waitFor();
      assert.equal((await draftTools('1.0.0')).length, 0, 'nothing is saved');
      assert.equal(await page.getByLabel(T.editor.name).inputValue(), 'get_weather', 'the form keeps its input after a failed save');
      await page.getByRole('button', { name: T.editor.goToField }).click();
      assert.equal(await page.evaluate<string>('document.activeElement && document.activeElement.value'), '/weather/{{ .args.city ');

      // The live check cannot reach the registry: "could not validate", never "Valid".
      await page.route('**/mcp-servers/validate', (route) => route.abort('connectionrefused'));
      await page.getByLabel(T.editor.url).fill('/weather');
      await page.getByLabel(T.editor.responseTemplate, { exact: true }).fill('{{ .city }}: {{ .temp }} {{ .unit }}');
      await page.getByTestId('check-status').getByText(T.editor.couldNotValidate).waitFor();
      assert.doesNotMatch(await page.getByTestId('check-status').innerText(), new RegExp(`^${T.editor.valid}`));
      await page.unroute('**/mcp-servers/validate');
      await page.getByLabel(T.editor.titleField).fill('Weather');
      await page.getByTestId('check-status').getByText(T.editor.valid).waitFor();
      await page.getByLabel(T.editor.titleField).fill('');

      // A schema that is not one: the registry's answer beside the schema.
      await page.getByRole('button', { name: 'JSON', exact: true }).click();
      const schemaBox = page.getByLabel(T.editor.schemaJson);
      const good = await schemaBox.inputValue();
      await schemaBox.fill('{"type": "object", "properties": {"city": {"type": "strung"}}, "required": ["city"]}');
      await page.getByText(/must be equal to one of the allowed values/).first().waitFor();
      await schemaBox.fill(good);
      await page.getByRole('button', { name: T.editor.schemaForm, exact: true }).click();
      assert.equal(await page.locator('.preview').getAttribute('aria-live'), null, 'the live preview is not re-announced on each keystroke');
      await page.getByTestId('tool-card').getByText('Current weather for a city.').waitFor();
      await page.getByRole('button', { name: T.editor.save }).first().click();
      await toast(fill(T.editor.saved, { name: 'get_weather', version: '1.0.0' }));
      const saved = await draftTools('1.0.0');
      assert.deepEqual(saved.map((x) => x.description), ['Current weather for a city.']);
    });

    await t.test('try it: the backend request, its answer and the MCP result; unsaved edits are said to be unsaved', async () => {
      const before = backend.requests.length;
      await page.getByRole('button', { name: T.tryIt.run, exact: true }).click();
      await page.getByText(/missing required argument 'city'/).waitFor();
      assert.equal(backend.requests.length, before, 'invalid arguments reach no backend');
      await page.getByLabel('city *').fill('Paris');
      await page.getByRole('button', { name: T.tryIt.run, exact: true }).click();
      await page.getByTestId('try-result').waitFor();
      assert.match(await page.getByTestId('try-request').innerText(), new RegExp(`^GET http://127\\.0\\.0\\.1:${backend.port}/weather\\?city=Paris`));
      const result = JSON.parse(await page.getByTestId('try-mcp-result').innerText()) as { content: { text: string }[] };
      assert.equal(result.content[0]?.text, 'Paris: 21 C');
      await page.getByLabel(T.editor.description).fill('Current weather for a city (edited).');
      await page.getByTestId('try-unsaved').getByText(T.tryIt.unsaved).waitFor();
      await page.getByRole('button', { name: T.tryIt.runUnsaved }).click();
      await page.getByTestId('try-result').getByText(T.tryIt.resultUnsaved).waitFor();
      await page.getByLabel(T.editor.description).fill('Current weather for a city.');
      await page.getByRole('button', { name: T.editor.save }).first().click();
      await toast(fill(T.editor.saved, { name: 'get_weather', version: '1.0.0' }));
      assert.equal((await server('weather')).publishedVersion, null, 'trying publishes nothing');
    });

    await t.test('a colleague changes the draft while the editor is open: saving says so and saves nothing; after a reload their change shows and a new save works', async () => {
      const draft = (await api<{ spec: { tools: { description: string }[] } }>('GET', '/namespaces/team-a/mcp-servers/weather/versions/1.0.0')).body;
      const theirs = { ...draft.spec, tools: draft.spec.tools.map((x) => ({ ...x, description: 'Changed by a colleague.' })) };
      assert.equal((await api('PUT', '/namespaces/team-a/mcp-servers/weather/versions/1.0.0', { spec: theirs })).status, 200);
      await page.getByLabel(T.editor.description).fill('My concurrent edit.');
      await page.getByRole('button', { name: T.editor.save }).first().click();
      const changed = page.getByRole('alert').filter({ hasText: T.errors.versionChanged });
      await changed.waitFor();
      assert.match(await changed.innerText(), /VERSION_CHANGED · HTTP 412/);
      assert.ok((await changed.innerText()).includes(T.errors.versionChangedMessage));
      assert.equal((await draftTools('1.0.0'))[0]?.description, 'Changed by a colleague.', 'their change stands: nothing was saved');
      assert.equal(await page.getByLabel(T.editor.description).inputValue(), 'My concurrent edit.', 'the edit is still in the form');
      await changed.getByRole('button', { name: T.errors.reload }).click();
      await waitFor('their change in the editor', async () => (await page.getByLabel(T.editor.description).inputValue()) === 'Changed by a colleague.');
      await changed.waitFor({ state: 'detached' });
      assert.doesNotMatch(await page.getByTestId('check-status').innerText(), new RegExp(T.editor.unsaved));
      await page.getByLabel(T.editor.description).fill('Current weather for a city.');
      await page.getByRole('button', { name: T.editor.save }).first().click();
      // The "saved" notice of the previous test's save may still be showing: wait for the draft itself.
      await waitFor('the new save stored', async () => (await draftTools('1.0.0'))[0]?.description === 'Current weather for a city.');
      await toast(fill(T.editor.saved, { name: 'get_weather', version: '1.0.0' }));
      await page.getByTestId('check-status').filter({ hasNotText: T.editor.unsaved }).waitFor();
    });

    await t.test('publish from the editor: the confirm box names the version, Enter publishes, an MCP client sees the tool', async () => {
      await page.getByRole('button', { name: T.editor.publish }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByText(fill(T.publish.title, { version: '1.0.0' })).first().waitFor();
      assert.equal(await page.evaluate<string | undefined>('document.activeElement?.textContent'), fill(T.publish.button, { version: '1.0.0' }), 'the confirm button has the focus');
      await page.keyboard.press('Enter');
      await toast(fill(T.publish.done, { version: '1.0.0' }));
      await heading(/weather/);
      const tools = await waitFor('the published tool', async () => (await mcpTools(url).catch(() => [])).find((x) => x.name === 'get_weather'));
      assert.equal(tools.description, 'Current weather for a city.');
      await page.getByTestId('last-publish').getByText(/Version 1\.0\.0 published by admin/).waitFor();
    });

    await t.test('the agent URL and ready-to-paste client configurations; arrow keys move between the clients', async () => {
      const shown = await page.getByTestId('agent-url').innerText();
      assert.equal(shown, url, 'the full URL agents use');
      assert.deepEqual((await mcpTools(shown)).map((x) => x.name), ['get_weather'], 'an MCP client connects to the URL as shown');
      const config = JSON.parse(await page.getByTestId('client-config').innerText()) as { mcpServers: Record<string, { url: string }> };
      assert.equal(config.mcpServers.weather?.url, url);
      await page.getByRole('tab', { name: T.connect.clients.cursor }).focus();
      await page.keyboard.press('ArrowRight');
      assert.equal(await page.getByRole('tab', { name: T.connect.clients['claude-desktop'] }).getAttribute('aria-selected'), 'true');
      await waitFor('the /mcp-remote/ configuration', async () => /mcp-remote/.test(await page.getByTestId('client-config').innerText()));
      await page.keyboard.press('End');
      assert.equal(await page.evaluate<string | undefined>('document.activeElement?.textContent'), T.connect.clients.inspector);
      await waitFor('the Inspector configuration', async () => /npx @modelcontextprotocol\/inspector --cli/.test(await page.getByTestId('client-config').innerText()));
      await page.keyboard.press('ArrowLeft');
      await waitFor('the /"type": "streamableHttp"/ configuration', async () => /"type": "streamableHttp"/.test(await page.getByTestId('client-config').innerText()));
    });

    await t.test('the main task by mouse: change a description, try it, publish in at most 5 clicks from the server page', async () => {
      clicks = 0;
      await click(page.getByTestId('tools').getByRole('link', { name: 'get_weather' }));
      await click(page.getByRole('button', { name: T.editor.editInNewDraft }));
      await heading(/get_weather/);
      await page.locator('h1 .badge').filter({ hasText: `${T.versions.statuses.draft} 1.0.1` }).waitFor();
      await page.getByLabel(T.editor.description).fill('Current weather for a city: temperature and unit.');
      await page.getByLabel('city *').fill('Oslo');
      await click(page.getByRole('button', { name: T.tryIt.runUnsaved }));
      await page.getByTestId('try-result').getByText(T.tryIt.resultUnsaved).waitFor();
      await click(page.getByRole('button', { name: T.editor.publish }));
      const dialog = page.getByRole('dialog');
      // The confirm box says what changes, by tool, with the changed words marked.
      await dialog.getByTestId('diff').getByText('get_weather').waitFor();
      assert.match(await dialog.locator('ins').first().innerText(), /temperature/);
      await click(dialog.getByRole('button', { name: fill(T.publish.button, { version: '1.0.1' }) }));
      await toast(fill(T.publish.done, { version: '1.0.1' }));
      t.diagnostic(`change a description, try it, publish: ${clicks} clicks from the server page`);
      assert.ok(clicks <= 5, `${clicks} clicks`);
      await waitFor('the new description', async () => (await mcpTools(url)).find((x) => x.description === 'Current weather for a city: temperature and unit.'));
    });

    await t.test('the main task by keyboard only', async () => {
      await heading(/weather/);
      await page.evaluate("document.querySelector('main h1')?.focus()");
      await tabTo(page, (el) => el.tag === 'a' && el.text === 'get_weather');
      await page.keyboard.press('Enter');
      await heading(/get_weather/);
      await tabTo(page, (el) => el.tag === 'button' && el.text === T.editor.editInNewDraft);
      await page.keyboard.press('Enter');
      await page.locator('h1 .badge').filter({ hasText: `${T.versions.statuses.draft} 1.0.2` }).waitFor();
      await tabTo(page, (el) => el.label === T.editor.description);
      await page.keyboard.press('Control+A');
      await page.keyboard.type('Weather now: temperature and unit, by city.');
      await tabTo(page, (el) => el.tag === 'button' && el.text === T.editor.publish, { back: true });
      await page.keyboard.press('Enter');
      await page.getByRole('dialog').getByTestId('diff').waitFor();
      await page.keyboard.press('Enter');
      await toast(fill(T.publish.done, { version: '1.0.2' }));
      await waitFor('the keyboard-published description', async () => (await mcpTools(url)).find((x) => x.description === 'Weather now: temperature and unit, by city.'));
    });

    await t.test('rollback names its target, goes back through the history (never forward) in at most 3 clicks', async () => {
      await heading(/weather/);
      const history = await api<{ items: { version: string }[] }>('GET', '/namespaces/team-a/mcp-servers/weather/history');
      assert.deepEqual(history.body.items.map((e) => e.version), ['1.0.2', '1.0.1', '1.0.0']);
      const firstPublished = (await server('weather')).versions.find((v) => v.version === '1.0.1')?.publishedAt;
      clicks = 0;
      await click(page.getByRole('button', { name: fill(T.rollback.button, { version: '1.0.1' }) }));
      const dialog = page.getByRole('dialog');
      await dialog.getByText(fill(T.rollback.title, { version: '1.0.1' })).first().waitFor();
      await dialog.getByLabel(T.publish.note).fill('unit missing in 1.0.2');
      await click(dialog.getByRole('button', { name: fill(T.rollback.button, { version: '1.0.1' }) }));
      await toast(fill(T.rollback.done, { version: '1.0.1' }));
      t.diagnostic(`roll back: ${clicks} clicks from the server page`);
      assert.ok(clicks <= 3, `${clicks} clicks`);
      await waitFor('the rolled-back description', async () => (await mcpTools(url)).find((x) => x.description === 'Current weather for a city: temperature and unit.'));
      // The next rollback goes further back, never forward to 1.0.2.
      await page.getByRole('button', { name: fill(T.rollback.button, { version: '1.0.0' }) }).waitFor();
      assert.equal(await page.getByRole('button', { name: fill(T.rollback.button, { version: '1.0.2' }) }).count(), 0);
      const s = await server('weather');
      assert.deepEqual([s.publishedVersion, s.rollbackTarget], ['1.0.1', '1.0.0']);
      assert.equal(s.versions.find((v) => v.version === '1.0.1')?.publishedAt, firstPublished, 'the first publish time is kept');
      await page.getByRole('link', { name: T.server.versions }).click();
      const table = page.getByTestId('history');
      await table.getByText('unit missing in 1.0.2').waitFor();
      const first = table.getByRole('row').nth(1);
      assert.match(await first.innerText(), /rollback\s+1\.0\.1\s+1\.0\.2\s+admin/);
    });

    await t.test('versions: the diff is shown at once, by tool name, with the changed words marked', async () => {
      const diff = page.getByTestId('diff');
      await diff.getByRole('heading', { name: /get_weather/ }).waitFor();
      await page.getByLabel(T.diff.from).selectOption('1.0.0');
      await page.getByLabel(T.diff.to, { exact: true }).selectOption('1.0.2');
      await diff.locator('ins').filter({ hasText: 'now' }).first().waitFor();
      assert.ok((await diff.locator('del').count()) > 0);
      assert.equal(await diff.getByText('tools[0]').count(), 0, 'no array positions');
    });

    await t.test('leaving unsaved edits asks first: breadcrumb, other page, namespace switch and reload', async () => {
      await page.getByRole('button', { name: fill(T.versions.draftFrom, { version: '1.0.1' }) }).click();
      await page.getByRole('dialog').getByRole('button', { name: T.draft.create }).click();
      await page.getByRole('link', { name: /weather/ }).first().click();
      await page.getByTestId('tools').getByRole('link', { name: 'get_weather' }).click();
      await page.getByLabel(T.editor.description).fill('Not saved yet.');
      const leave = page.getByRole('dialog').filter({ hasText: T.leave.title });
      // The breadcrumb: stay, and the edit is still there.
      await page.getByRole('navigation', { name: T.common.breadcrumbs }).getByRole('link', { name: 'weather' }).click();
      await leave.waitFor();
      assert.equal(await page.evaluate<string | undefined>('document.activeElement?.textContent'), T.leave.confirm);
      await leave.getByRole('button', { name: T.common.cancel }).click();
      assert.equal(await page.getByLabel(T.editor.description).inputValue(), 'Not saved yet.');
      // Another page by the navigation, then the namespace switch.
      await nav(T.nav.services).click();
      await leave.waitFor();
      await page.keyboard.press('Escape');
      assert.match(page.url(), /\/tools\/get_weather$/);
      await page.getByLabel(T.shell.namespace, { exact: true }).selectOption('public');
      await leave.waitFor();
      await leave.getByRole('button', { name: T.common.cancel }).click();
      // Reload: the browser asks (beforeunload); staying keeps the edit.
      const asked = new Promise<string>((resolve) => page.once('dialog', (d) => { resolve(d.type()); void d.dismiss(); }));
      void page.evaluate('window.location.reload()');
      assert.equal(await asked, 'beforeunload');
      assert.equal(await page.getByLabel(T.editor.description).inputValue(), 'Not saved yet.');
      // Leaving for good drops the edit and goes where asked.
      await nav(T.nav.services).click();
      await leave.getByRole('button', { name: T.leave.confirm }).click();
      await heading(T.services.title);
      assert.equal((await draftTools('1.0.3'))[0]?.description, 'Current weather for a city: temperature and unit.', 'nothing was saved');
    });

    await t.test('large catalogs: tool search, count, sort, inline and bulk enable, expandable descriptions', async () => {
      const imported = await api('POST', '/namespaces/team-a/mcp-servers/import', { format: 'higress', content: bigCatalog(60), publish: false });
      assert.equal(imported.status, 201, imported.text);
      await page.goto(`${R}/ns/team-a/servers/catalog`);
      await heading(/catalog/);
      const count = page.getByTestId('tool-count');
      assert.equal(await count.innerText(), fill(T.tools.count_other, { total: 60 }));
      await page.getByLabel(T.tools.search).fill('op_05');
      await waitFor('the filtered count', async () => (await count.innerText()) === fill(T.tools.countFiltered_other, { shown: 10, total: 60 }));
      await page.getByLabel(T.tools.selectAll).check();
      await page.getByRole('button', { name: fill(T.tools.disableSelected_other, { count: 10 }) }).click();
      await toast(fill(T.tools.disabledNotice_other, { count: 10, version: '1.0.0' }));
      const catalog = async () => (await api<{ spec: { tools: { name: string; enabled: boolean }[] } }>('GET', '/namespaces/team-a/mcp-servers/catalog/versions/1.0.0')).body.spec.tools;
      assert.deepEqual((await catalog()).filter((x) => !x.enabled).map((x) => x.name), Array.from({ length: 10 }, (_, i) => `op_05${i}`));
      // A colleague changes the draft meanwhile: the switch says so, changes nothing, and works after a reload.
      const read = (await api<{ spec: Record<string, unknown> }>('GET', '/namespaces/team-a/mcp-servers/catalog/versions/1.0.0')).body;
      assert.equal((await api('PUT', '/namespaces/team-a/mcp-servers/catalog/versions/1.0.0', { spec: { ...read.spec, description: 'Changed by a colleague.' } })).status, 200);
      const toggle = page.getByLabel(fill(T.tools.enabledToggle, { name: 'op_053' }));
      await toggle.click();
      const changed = page.getByRole('alert').filter({ hasText: T.errors.versionChanged });
      await changed.waitFor();
      assert.equal(await toggle.isChecked(), false, 'the switch shows the draft as it is');
      assert.equal((await catalog()).find((x) => x.name === 'op_053')?.enabled, false, 'nothing was changed');
      await changed.getByRole('button', { name: T.errors.reload }).click();
      await changed.waitFor({ state: 'detached' });
      await waitFor('their change shown', async () => (await page.getByLabel(T.draftSettings.description).inputValue()) === 'Changed by a colleague.');
      await toggle.check();
      await waitFor('op_053 enabled again', async () => (await catalog()).find((x) => x.name === 'op_053')?.enabled);
      await page.getByLabel(T.tools.search).fill('');
      await page.getByRole('button', { name: fill(T.common.sortBy, { label: T.tools.tool }) }).click();
      await page.getByTestId('tools').getByRole('row').nth(1).getByRole('link', { name: 'op_059' }).waitFor();
      await page.getByRole('button', { name: fill(T.common.sortBy, { label: T.tools.tool }) }).click();
      const long = page.getByTestId('tools').getByRole('row').filter({ hasText: 'op_007' });
      await long.getByRole('button', { name: T.common.more }).click();
      assert.equal(await long.getByRole('button', { name: T.common.less }).getAttribute('aria-expanded'), 'true');
    });

    await t.test('lists are paged past 500, sortable and searchable, with draft, tools, health and protocol columns', async () => {
      for (let i = 0; i < 30; i++) {
        await api('POST', '/namespaces/team-a/mcp-servers', { name: `bulk-${String(i).padStart(2, '0')}`, protocol: 'https', endpoint: { type: 'url', url: 'https://example.com' }, spec: { version: '1.0.0', tools: [] } });
      }
      await nav(T.nav.servers).click();
      await heading(T.servers.title);
      await page.getByLabel(T.pager.size).selectOption('20');
      await page.getByTestId('pager-range').getByText(fill(T.pager.range, { from: 1, to: 20, total: 32 })).waitFor();
      await page.getByRole('button', { name: T.pager.next }).click();
      await page.getByTestId('pager-range').getByText(fill(T.pager.range, { from: 21, to: 32, total: 32 })).waitFor();
      await page.getByRole('button', { name: fill(T.common.sortBy, { label: T.servers.name }) }).click();
      await page.getByTestId('pager-range').getByText(fill(T.pager.range, { from: 1, to: 20, total: 32 })).waitFor();
      await page.getByTestId('servers').getByRole('row').nth(1).getByRole('link', { name: 'weather' }).waitFor();
      const row = page.getByTestId('servers').getByRole('row').nth(1);
      assert.match(await row.innerText(), /http[\s\S]*service weather-api[\s\S]*1\/1 healthy[\s\S]*1[\s\S]*1\.0\.1[\s\S]*draft 1\.0\.3/);
      await page.getByLabel(T.common.search).fill('bulk-2');
      await page.getByTestId('pager-range').getByText(fill(T.pager.range, { from: 1, to: 10, total: 10 })).waitFor();
      // Past the old cap of 500 rows: the API pages through any number.
      const many = await api<{ total: number; items: unknown[] }>('GET', '/namespaces/team-a/mcp-servers?pageSize=1000&pageNo=1');
      assert.equal(many.body.items.length, many.body.total);
    });

    await t.test('consumer keys: allow-lists picked from servers and tools, a warning when the first key closes the namespace, last use', async () => {
      await page.goto(`${R}/ns/team-a/admin?tab=consumers`);
      await heading(T.admin.title);
      await page.getByTestId('open-namespace').waitFor();
      await page.getByRole('button', { name: T.consumers.new }).click();
      await page.getByLabel(T.consumers.nameLabel).fill('cursor');
      await page.getByTestId('closes-namespace').waitFor();
      await page.getByLabel(T.consumers.allowSome).check();
      await page.getByRole('button', { name: fill(T.consumers.pickTools, { server: 'weather' }) }).click();
      await page.getByLabel('get_weather', { exact: true }).check();
      await page.getByRole('button', { name: fill(T.consumers.createAndClose, { namespace: 'team-a' }) }).click();
      const key = await page.getByTestId('secret').innerText();
      assert.match(key, /^mgk_/);
      const consumers = await api<{ items: { name: string; allow: unknown[] }[] }>('GET', '/namespaces/team-a/consumers');
      assert.deepEqual(consumers.body.items.map((c) => [c.name, c.allow]), [['cursor', [{ server: 'weather', tools: ['get_weather'] }]]]);
      const row = page.getByTestId('consumers').getByRole('row').filter({ hasText: 'cursor' });
      assert.equal(await row.getByTestId('last-used').innerText(), T.consumers.neverUsed);
      assert.deepEqual((await mcpTools(url, key)).map((x) => x.name), ['get_weather']);
      await waitFor('the last use recorded', async () => {
        await page.reload();
        return (await page.getByTestId('consumers').getByRole('row').filter({ hasText: 'cursor' }).getByTestId('last-used').innerText()) !== T.consumers.neverUsed;
      }, 30_000, 1000);
      // Arrow keys on the admin tabs.
      await page.getByRole('tab', { name: T.admin.tabs.consumers }).focus();
      await page.keyboard.press('ArrowLeft');
      await page.getByRole('tab', { name: T.admin.tabs.tokens, selected: true }).waitFor();
      await page.getByLabel(T.admin.tokenName).fill('ci');
      await page.getByLabel(T.admin.tokenName).press('Enter');
      assert.match(await page.getByTestId('secret').innerText(), /^mgt_/);
    });

    await t.test('import an OpenAPI document: the format is recognised, the preview lists the operations and the notes, it lands as a draft', async () => {
      await page.goto(`${R}/ns/team-a/import`);
      await heading(T.import.title);
      await page.getByLabel(T.import.definition).fill(readFileSync(new URL('./fixtures/openapi/orders-api.yaml', import.meta.url), 'utf8'));
      assert.equal(await page.getByLabel(T.import.format).inputValue(), 'openapi');
      await page.getByLabel(T.import.url).waitFor();
      await page.getByRole('button', { name: T.import.preview }).click();
      const preview = page.getByTestId('import-preview');
      await preview.getByText('updateOrderNote').waitFor();
      await preview.getByText('GET /orders/{orderId}').waitFor();
      await page.getByTestId('import-warnings').getByText(/servers: 2 servers/).waitFor();
      await preview.getByRole('button', { name: T.import.asDraft }).click();
      await heading(/acme-orders-api/);
      const s = await server('acme-orders-api');
      assert.equal(s.publishedVersion, null);
      assert.deepEqual(s.versions.map((v) => v.status), ['draft']);
    });

    await t.test('a proper 404 page; an expired session goes back to the login', async () => {
      await page.goto(`${R}/ns/team-a/nothing-here`);
      await heading(T.notFound.title);
      assert.equal(await page.title(), `${T.notFound.title} · mcpgate`);
      await page.getByRole('link', { name: T.notFound.home }).waitFor();
      await page.goto(`${R}/ns/team-a/servers/no-such-server`);
      await page.getByRole('alert').getByText(/does not exist/).waitFor();
      await page.evaluate(`sessionStorage.setItem('mcpgate.console.token', 'not-a-token')`);
      await page.goto(`${R}/ns/team-a/servers`);
      await page.getByLabel(T.login.username).waitFor();
    });

    await t.test('change my password: the current one is asked, other sessions end, this one goes on', async () => {
      // The step before ended the session: log in again.
      await page.getByLabel(T.login.username).fill('admin');
      await page.getByLabel(T.login.password).fill('admin-password-1');
      await page.getByLabel(T.login.password).press('Enter');
      await heading(T.servers.title);
      await nav(T.nav.admin).click();
      await heading(T.admin.title);
      // Editing oneself in the users dialog: roles only, no password field.
      await page.getByRole('button', { name: fill(T.admin.editUser, { name: 'admin' }) }).click();
      const own = page.getByRole('dialog', { name: fill(T.admin.editUser, { name: 'admin' }) });
      await own.getByRole('button', { name: T.admin.addRole }).waitFor();
      assert.equal(await own.getByLabel(T.admin.newPasswordKeep).count(), 0);
      assert.equal(await own.locator('input[type=password]').count(), 0);
      await page.keyboard.press('Escape');
      await own.waitFor({ state: 'hidden' });
      await page.getByRole('button', { name: T.admin.changePassword }).click();
      const dialog = page.getByRole('dialog', { name: T.admin.changePassword });
      await dialog.getByLabel(T.admin.currentPassword).fill('wrong-password');
      await dialog.getByLabel(T.admin.newPassword, { exact: true }).fill('admin-password-2');
      await dialog.getByLabel(T.admin.newPasswordAgain).fill('admin-password-2');
      await dialog.getByRole('button', { name: T.admin.changePassword }).click();
      await dialog.getByText(T.admin.wrongCurrentPassword).waitFor();
      assert.equal((await http('POST', `${R}/api/v1/auth/login`, { body: { username: 'admin', password: 'admin-password-2' } })).status, 401, 'nothing changed');
      await dialog.getByLabel(T.admin.currentPassword).fill('admin-password-1');
      await dialog.getByRole('button', { name: T.admin.changePassword }).click();
      await toast(T.admin.passwordChanged);
      await dialog.waitFor({ state: 'hidden' });
      assert.equal((await api('GET', '/namespaces')).status, 401, "the test's own login (another session) was revoked");
      assert.equal((await http('POST', `${R}/api/v1/auth/login`, { body: { username: 'admin', password: 'admin-password-2' } })).status, 200, 'the new password logs in');
      await nav(T.nav.namespaces).click();
      await page.getByRole('cell', { name: 'Team A' }).waitFor();
    });

    assert.deepEqual(pageErrors, [], 'no uncaught error in the page');
  } finally {
    await browser.close();
    await stack.close();
    await backend.close();
  }
});
