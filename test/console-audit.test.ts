/**
 * The console's Audit page in a real browser (Playwright driving Debian's Chromium) against a
 * real `mcpgate serve` with auth on: the list with its filters and pages, an entry's changes
 * with the secrets redacted, and who may see the page.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { browserSkipReason, ensureConsoleBuilt, openBrowser, screenshotDir } from './support/browser.js';
import { http } from './support/http.js';
import { startStack } from './support/stack.js';

const skip = browserSkipReason();

const weather = (version: string, token: string) => ({
  version, description: 'Weather', config: { token, region: 'eu' },
  tools: [{
    name: 'get_weather', description: 'Weather by city', inputSchema: { type: 'object', properties: { city: { type: 'string' } } },
    template: { request: { url: '/weather', method: 'GET', headers: [{ key: 'Authorization', value: 'Bearer {{ .config.token }}' }], argsToUrlParam: true, argsToJsonBody: false, argsToFormBody: false }, response: {}, argsPosition: {} },
  }],
});

test('the Audit page lists changes with filters and pages, shows what changed with secrets hidden, and only to admins', { skip, timeout: 180_000 }, async (t) => {
  ensureConsoleBuilt();
  const shots = screenshotDir();
  mkdirSync(shots, { recursive: true });
  const stack = await startStack({ auth: true });
  const R = stack.registryUrl;
  const login = async (username: string, password: string) => (await http<{ accessToken: string }>('POST', `${R}/api/v1/auth/login`, { body: { username, password } })).body.accessToken;
  const admin = await login('admin', 'admin-password-1');
  const api = (method: string, p: string, body?: unknown, token = admin) => http(method, `${R}/api/v1${p}`, { token, body });
  assert.equal((await api('POST', '/namespaces', { id: 'team-a' })).status, 201);
  assert.equal((await api('POST', '/users', { username: 'nina', password: 'nina-password-1', roles: [{ namespace: 'team-a', role: 'admin' }] })).status, 201);
  assert.equal((await api('POST', '/users', { username: 'vic', password: 'vic-password-1', roles: [{ namespace: 'team-a', role: 'viewer' }] })).status, 201);
  const nina = await login('nina', 'nina-password-1');
  assert.equal((await api('POST', '/namespaces/team-a/mcp-servers', { name: 'weather', protocol: 'http', spec: weather('1.0.0', 'sk-audit-secret-1') })).status, 201);
  assert.equal((await api('PUT', '/namespaces/team-a/mcp-servers/weather/versions/1.0.1', { spec: weather('1.0.1', 'sk-audit-secret-2'), publish: true })).status, 200);
  assert.equal((await api('POST', '/namespaces/team-a/services', { name: 'orders' }, nina)).status, 201);
  // Enough entries for a second page (the page reads 50).
  for (let i = 0; i < 50; i++) assert.equal((await api('POST', '/namespaces/team-a/services', { name: `bulk-${i}` })).status, 201);

  const browser = await openBrowser();
  const { page } = browser;
  const shot = (name: string) => page.screenshot({ path: join(shots, `console-${name}.png`), style: '.notices { display: none !important; }' });
  const nav = (name: string) => page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name });
  const signIn = async (username: string, password: string) => {
    await page.evaluate(`sessionStorage.clear()`);
    await page.goto(`${R}/`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByLabel('Password').press('Enter');
    await page.getByRole('heading', { name: 'MCP servers' }).waitFor();
  };
  const rows = () => page.getByTestId('audit').locator('tbody > tr:not(.audit-detail-row)');
  try {
    await page.goto(`${R}/`);
    await signIn('admin', 'admin-password-1');
    await page.getByLabel('Namespace', { exact: true }).selectOption('team-a');

    await t.test('the list, newest first, and older entries on demand', async () => {
      await nav('Audit').click();
      await page.getByRole('heading', { name: 'Audit log' }).waitFor();
      await rows().first().getByText('service.create').waitFor();
      assert.equal(await rows().count(), 50);
      assert.match(await rows().first().innerText(), /bulk-49/);
      await page.getByRole('button', { name: 'Load older entries' }).click();
      await rows().filter({ hasText: 'mcp_server.create' }).waitFor();
      assert.ok((await rows().count()) > 50);
    });

    await t.test('filter by action, and an entry\'s changes with the secret hidden', async () => {
      await page.getByLabel('Action').fill('version.publish');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await page.waitForFunction(`document.querySelectorAll('[data-testid="audit"] tbody > tr').length === 1`);
      const row = rows().first();
      assert.match(await row.innerText(), /admin[\s\S]*127\.0\.0\.1[\s\S]*version\.publish[\s\S]*weather/);
      await row.getByRole('button', { name: 'Changes' }).click();
      const changes = page.getByTestId('audit-changes');
      const secret = changes.getByRole('row').filter({ hasText: 'version.spec.config.token' }).first();
      await secret.waitFor();
      assert.match(await secret.innerText(), /\*\*\*\*\*\*[\s\S]*\*\*\*\*\*\*/);
      await changes.getByRole('row').filter({ hasText: 'server.publishedVersion' }).getByText('1.0.1').waitFor();
      await page.getByTestId('audit-detail').getByText('Secrets changed').waitFor();
      const text = await page.locator('main').innerText();
      assert.ok(!text.includes('sk-audit-secret'), 'no secret on the page');
      await shot('audit');
    });

    await t.test('filter by actor; users and tokens under *', async () => {
      await page.getByRole('button', { name: 'Clear' }).click();
      await page.getByLabel('Actor').fill('nina');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await page.waitForFunction(`document.querySelectorAll('[data-testid="audit"] tbody > tr').length === 1`);
      assert.match(await rows().first().innerText(), /nina[\s\S]*DEFAULT_GROUP@@orders/);
      await page.getByRole('button', { name: 'Clear' }).click();
      await page.getByLabel('Scope').selectOption('*');
      await page.getByLabel('Entity type').selectOption('user');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await rows().filter({ hasText: 'vic' }).waitFor();
      assert.equal(await rows().count(), 3, 'the first admin and the two users created');
      assert.match(await rows().last().innerText(), /the registry[\s\S]*user\.create[\s\S]*admin/, 'the first admin is the registry\'s own change');
    });

    await t.test('a namespace admin sees their namespace; a viewer has no Audit page', async () => {
      await signIn('nina', 'nina-password-1');
      await page.getByLabel('Namespace', { exact: true }).selectOption('team-a');
      await nav('Audit').click();
      await rows().first().waitFor();
      assert.deepEqual(await page.getByLabel('Scope').locator('option').allInnerTexts(), ['namespace team-a']);
      await signIn('vic', 'vic-password-1');
      await page.getByLabel('Namespace', { exact: true }).selectOption('team-a');
      assert.equal(await nav('Audit').count(), 0);
      await page.goto(`${R}/ns/team-a/audit`);
      await page.getByRole('alert').getByText(/needs the admin role/).waitFor();
    });

    assert.deepEqual(browser.pageErrors, [], 'no uncaught error in the page');
  } finally {
    await browser.close();
    await stack.close();
  }
});
