/**
 * The console's Audit page in a real browser (Playwright driving Debian's Chromium) against a
 * real `mcpgate serve` with auth on: the list with its filters and pages, an entry's changes
 * with the secrets redacted, and who may see the page.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browserSkipReason, ensureConsoleBuilt, logIn, openBrowser, TEXTS } from './support/browser.js';
import { waitFor } from './support/gateway.js';
import { http } from './support/http.js';
import { startStack } from './support/stack.js';

const skip = browserSkipReason();
const T = TEXTS.en;
/** `{{x}}` placeholders of a text filled in. */
const fill = (text: string, vars: Record<string, string | number> = {}) => text.replace(/\{\{(\w+)\}\}/g, (_, k: string) => String(vars[k] ?? ''));

const weather = (version: string, token: string) => ({
  version, description: 'Weather', config: { token, region: 'eu' },
  tools: [{
    name: 'get_weather', description: 'Weather by city', inputSchema: { type: 'object', properties: { city: { type: 'string' } } },
    template: { request: { url: '/weather', method: 'GET', headers: [{ key: 'Authorization', value: 'Bearer {{ .config.token }}' }], argsToUrlParam: true, argsToJsonBody: false, argsToFormBody: false }, response: {}, argsPosition: {} },
  }],
});

test('the Audit page lists changes with filters and pages, shows what changed with secrets hidden, and only to admins', { skip, timeout: 180_000 }, async (t) => {
  ensureConsoleBuilt();
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
  const nav = (name: string) => page.getByRole('navigation', { name: T.nav.label }).getByRole('link', { name });
  const signIn = async (username: string, password: string) => {
    await page.evaluate(`sessionStorage.clear()`);
    await logIn(page, R, T, username, password);
  };
  const rows = () => page.getByTestId('audit').locator('tbody > tr');
  // A locator count, not waitForFunction: the console's CSP forbids the eval that a string predicate needs.
  const rowCount = (n: number) => waitFor(`${n} audit rows`, async () => (await page.locator('[data-testid="audit"] tbody > tr').count()) === n);
  try {
    await page.goto(`${R}/`);
    await signIn('admin', 'admin-password-1');
    await page.getByLabel(T.shell.namespace, { exact: true }).selectOption('team-a');

    await t.test('the list, newest first, and older entries on demand', async () => {
      await nav(T.nav.audit).click();
      await page.getByRole('heading', { level: 1, name: T.audit.title }).waitFor();
      assert.equal(await page.title(), `${T.audit.title} · mcpgate`);
      await rows().first().getByText('service.create').waitFor();
      assert.equal(await rows().count(), 50);
      assert.match(await rows().first().innerText(), new RegExp(`bulk-49[\\s\\S]*${T.audit.entityTypes.service}`));
      assert.ok((await rows().first().innerText()).includes(T.audit.actions.service.create), 'the action in words');
      assert.equal(await page.getByTestId('audit-count').innerText(), fill(T.audit.shown_other, { n: 50 }));
      await page.getByRole('button', { name: T.audit.older }).click();
      await rows().filter({ hasText: 'mcp_server.create' }).waitFor();
      assert.ok((await rows().count()) > 50);
    });

    await t.test('filter by action, and an entry\'s changes with the secret hidden', async () => {
      await page.getByLabel(T.audit.action).selectOption('version.publish');
      await page.getByRole('button', { name: T.audit.apply }).click();
      await rowCount(1);
      const row = rows().first();
      assert.match(await row.innerText(), /admin[\s\S]*127\.0\.0\.1[\s\S]*version\.publish[\s\S]*weather/);
      await row.getByRole('button', { name: fill(T.audit.changesOf, { action: T.audit.actions.version.publish, name: 'weather' }) }).click();
      const dialog = page.getByRole('dialog', { name: fill(T.audit.detailTitle, { action: T.audit.actions.version.publish, name: 'weather' }) });
      await dialog.waitFor();
      const changes = dialog.getByTestId('audit-changes');
      const secret = changes.getByRole('row').filter({ hasText: 'version.spec.config.token' }).first();
      await secret.waitFor();
      assert.match(await secret.innerText(), /\*\*\*\*\*\*[\s\S]*\*\*\*\*\*\*/);
      await changes.getByRole('row').filter({ hasText: 'server.publishedVersion' }).getByText('1.0.1').waitFor();
      await dialog.getByText(T.audit.secretsChanged).waitFor();
      assert.match(await dialog.getByTestId('audit-detail').innerText(), /127\.0\.0\.1[\s\S]*PUT \/api\/v1\/namespaces\/:ns\/mcp-servers\/:name\/versions\/:version/);
      const text = await page.locator('body').innerText();
      assert.ok(!text.includes('sk-audit-secret'), 'no secret on the page');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      assert.equal(await page.evaluate<string | undefined>('document.activeElement?.textContent'), T.audit.changes, 'the focus is back on the button that opened it');
    });

    await t.test('filter by actor; users and tokens under *', async () => {
      await page.getByRole('button', { name: T.audit.clear }).click();
      await page.getByLabel(T.audit.actor).fill('nina');
      await page.getByRole('button', { name: T.audit.apply }).click();
      await rowCount(1);
      assert.match(await rows().first().innerText(), /nina[\s\S]*DEFAULT_GROUP@@orders/);
      await page.getByRole('button', { name: T.audit.clear }).click();
      await page.getByLabel(T.audit.scope).selectOption('*');
      await page.getByLabel(T.audit.entityType).selectOption('user');
      await page.getByRole('button', { name: T.audit.apply }).click();
      await rowCount(3);
      assert.equal(await rows().filter({ hasText: 'vic' }).count(), 1, 'the first admin and the two users created');
      assert.match(await rows().last().innerText(), new RegExp(`${T.audit.system}[\\s\\S]*user\\.create[\\s\\S]*admin`), 'the first admin is the registry\'s own change');
    });

    await t.test('a namespace admin sees their namespace; a viewer has no Audit page', async () => {
      await signIn('nina', 'nina-password-1');
      await page.getByLabel(T.shell.namespace, { exact: true }).selectOption('team-a');
      await nav(T.nav.audit).click();
      await rows().first().waitFor();
      assert.deepEqual(await page.getByLabel(T.audit.scope).locator('option').allInnerTexts(), [fill(T.audit.scopeNamespace, { namespace: 'team-a' })]);
      await signIn('vic', 'vic-password-1');
      await page.getByLabel(T.shell.namespace, { exact: true }).selectOption('team-a');
      assert.equal(await nav(T.nav.audit).count(), 0);
      await page.goto(`${R}/ns/team-a/audit`);
      await page.getByRole('alert').getByText(fill(T.audit.needsAdmin, { namespace: 'team-a' })).waitFor();
    });

    assert.deepEqual(browser.pageErrors, [], 'no uncaught error in the page');
  } finally {
    await browser.close();
    await stack.close();
  }
});
