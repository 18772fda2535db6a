/**
 * The console for everyone, on every screen: axe-core (injected into the page) on every page and
 * dialog, in English and Chinese, at 1280×800 and on a 390×844 phone, with zero serious or
 * critical violations; no page wider than the phone; the language from the browser, switchable
 * and remembered, dates localised; dark mode following the system. Saves the screenshots of
 * docs/images/ (with MCPGATE_UPDATE_SCREENSHOTS=1).
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import type { AxeFinding, Lang } from './support/browser.js';
import { axeAudit, browserSkipReason, ensureConsoleBuilt, openBrowser, screenshotDir, sidewaysOverflow, TEXTS } from './support/browser.js';
import { adminApi } from './support/http.js';
import { startBackend, startStack } from './support/stack.js';

const fill = (text: string, vars: Record<string, string | number> = {}) => text.replace(/\{\{(\w+)\}\}/g, (_, k: string) => String(vars[k] ?? ''));

const HIGRESS_YAML = `server:
  name: library
tools:
  - name: search_books
    description: Find books by title or author.
    args:
      - name: q
        description: Words of the title or the author's name
        type: string
        required: true
    requestTemplate:
      url: /books/search
      method: GET
      argsToUrlParam: true
`;

function weatherTool(description: string) {
  return {
    name: 'get_weather', description,
    inputSchema: { type: 'object', properties: { city: { type: 'string', description: 'City name, e.g. Paris' } }, required: ['city'] },
    template: {
      request: { url: '/weather', method: 'GET', headers: [], argsToUrlParam: true, argsToJsonBody: false, argsToFormBody: false },
      response: { body: '{{ .city }}: {{ .temp }} {{ .unit }}' }, argsPosition: {},
    },
  };
}

const skip = browserSkipReason();

test('the console is accessible, in Chinese and English, on desktops and phones', { skip, timeout: 600_000 }, async (t) => {
  ensureConsoleBuilt();
  const SHOTS = screenshotDir();
  mkdirSync(SHOTS, { recursive: true });
  const backend = await startBackend((r, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ city: new URLSearchParams(r.query).get('city'), temp: 21, unit: 'C' }));
  });
  t.after(() => backend.close());
  const stack = await startStack({ auth: true });
  t.after(() => stack.close());
  const R = stack.registryUrl;
  const { apiOk: api } = await adminApi(R);
  // What the pages show: a namespace with a service, a server with two published versions and a draft, keys, users.
  await api('POST', '/namespaces', { id: 'team-a', name: 'Team A', description: 'The weather team' });
  await api('POST', '/namespaces/team-a/services', { name: 'weather-api', metadata: { owner: 'weather-team' } });
  await api('POST', '/namespaces/team-a/services/DEFAULT_GROUP/weather-api/instances', {
    ip: '127.0.0.1', port: backend.port, ephemeral: false, metadata: { zone: 'eu-1', version: '2.3' }, healthCheck: { type: 'tcp' },
  });
  const spec = (version: string, description: string) => ({ version, description: 'Weather REST as MCP', tools: [weatherTool(description)] });
  await api('POST', '/namespaces/team-a/mcp-servers', {
    name: 'weather', description: 'Weather of the cities we serve.', protocol: 'http',
    endpoint: { type: 'service', namespace: 'team-a', group: 'DEFAULT_GROUP', service: 'weather-api' }, spec: spec('1.0.0', 'Current weather for a city.'),
  });
  await api('PUT', '/namespaces/team-a/mcp-servers/weather/versions/1.0.1', { spec: spec('1.0.1', 'Current weather for a city: temperature and unit.') });
  await api('POST', '/namespaces/team-a/mcp-servers/weather/versions/1.0.1/publish', { note: 'unit added' });
  await api('PUT', '/namespaces/team-a/mcp-servers/weather/versions/1.0.2', { spec: spec('1.0.2', 'Weather now for a city: temperature, unit and wind.') });
  await api('POST', '/namespaces/team-a/consumers', { name: 'cursor-team-a', allow: [{ server: 'weather', tools: ['get_weather'] }] });
  await api('POST', '/users', { username: 'alice', password: 'alice-password-1', roles: [{ namespace: 'team-a', role: 'editor' }] });
  await api('POST', '/tokens', { name: 'ci-deploy' });
  await api('POST', '/gateways/heartbeat', { id: 'gw-eu-1', revision: 1, sessions: 12, streams: 3, address: 'http://10.0.3.7:8080', source: 'registry http://registry:8848' });

  /** Log in as admin in English and wait for the start page. */
  const logIn = async (page: Page) => {
    await page.goto(`${R}/`);
    await page.getByLabel(TEXTS.en.login.username).fill('admin');
    await page.getByLabel(TEXTS.en.login.password).fill('admin-password-1');
    await page.getByLabel(TEXTS.en.login.password).press('Enter');
    await page.getByRole('heading', { level: 1, name: TEXTS.en.servers.title }).waitFor();
  };
  const findings: AxeFinding[] = [];
  const widths: string[] = [];
  let audits = 0;
  const audit = async (page: Page, where: string) => {
    audits++;
    findings.push(...(await axeAudit(page, where)));
  };

  for (const lang of ['en', 'zh-CN'] as Lang[]) {
    const T = TEXTS[lang];
    for (const size of [{ width: 1280, height: 800, name: 'desktop' }, { width: 390, height: 844, name: 'phone' }]) {
      await t.test(`every page and dialog in ${lang} at ${size.width}×${size.height}`, async () => {
        const browser = await openBrowser({ width: size.width, height: size.height, locale: lang === 'en' ? 'en-US' : 'zh-CN' });
        const { page, pageErrors } = browser;
        const suffix = `${lang === 'en' ? '' : '-zh'}${size.name === 'phone' ? '-phone' : ''}`;
        const shot = async (name: string) => {
          await page.screenshot({ path: join(SHOTS, `console-${name}${suffix}.png`), style: '.notices { display: none !important; }' });
        };
        const where = (name: string) => `${name} (${lang}, ${size.width}×${size.height})`;
        const check = async (name: string, opts: { shot?: boolean } = {}) => {
          await audit(page, where(name));
          if (size.name === 'phone') {
            const over = await sidewaysOverflow(page);
            if (over > 1) widths.push(`${where(name)}: ${over} px wider than the screen`);
          }
          if (opts.shot !== false) await shot(name);
        };
        const heading = (name: string | RegExp) => page.getByRole('heading', { level: 1, name }).waitFor();
        const dialog = async (name: string, open: () => Promise<void>, opts: { shot?: boolean } = {}) => {
          await open();
          await page.getByRole('dialog').waitFor();
          await check(`dialog-${name}`, { shot: opts.shot ?? false });
          await page.keyboard.press('Escape');
          await page.getByRole('dialog').waitFor({ state: 'hidden' });
        };
        try {
          await page.goto(`${R}/`);
          await page.getByLabel(T.login.username).waitFor();
          assert.equal(await page.evaluate<string>('document.documentElement.lang'), lang, 'the language follows the browser');
          // axe finds what it should here: an unlabelled image is a critical violation.
          await page.evaluate(`document.body.insertAdjacentHTML('beforeend', '<img id="axe-probe" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">')`);
          assert.deepEqual((await axeAudit(page, 'probe')).map((f) => f.rule), ['image-alt']);
          await page.evaluate("document.getElementById('axe-probe')?.remove()");
          await check('login');
          await page.getByLabel(T.login.username).fill('admin');
          await page.getByLabel(T.login.password).fill('admin-password-1');
          await page.getByLabel(T.login.password).press('Enter');
          await heading(T.servers.title);

          const go = async (path: string, title: string | RegExp) => {
            await page.goto(`${R}${path}`);
            await heading(title);
            await page.locator('.loading').first().waitFor({ state: 'detached' }).catch(() => undefined);
          };
          await go('/namespaces', T.namespaces.title);
          await check('namespaces');
          await dialog('namespace', () => page.getByRole('button', { name: T.namespaces.new }).click());

          await go('/ns/team-a/services', T.services.title);
          await page.getByText(fill(T.services.healthyOf, { healthy: 1, total: 1 })).waitFor();
          await check('services');
          await dialog('service', () => page.getByRole('button', { name: T.services.new }).click());

          await go('/ns/team-a/services/DEFAULT_GROUP/weather-api', 'weather-api');
          await page.getByTestId('used-by').getByRole('link', { name: 'weather' }).waitFor();
          await page.locator('.meta-details summary').first().click();
          await check('service');
          await dialog('delete-service', () => page.getByRole('button', { name: T.service.delete }).click());

          await go('/ns/team-a/servers', T.servers.title);
          await page.getByTestId('servers').getByRole('link', { name: 'weather' }).waitFor();
          await check('servers');
          await dialog('server', () => page.getByRole('button', { name: T.servers.new }).click());

          await go('/ns/team-a/servers/weather', /weather/);
          await page.getByTestId('tools').getByRole('link', { name: 'get_weather' }).waitFor();
          await page.getByTestId('agent-url').waitFor();
          await check('server');
          await dialog('rollback', () => page.getByRole('button', { name: fill(T.rollback.button, { version: '1.0.0' }) }).first().click(), { shot: size.name === 'desktop' });
          await dialog('delete-server', () => page.getByRole('button', { name: T.common.delete, exact: true }).first().click());

          await go('/ns/team-a/servers/weather/versions', fill(T.versions.title, { name: 'weather' }));
          await page.getByTestId('diff').waitFor();
          await page.getByTestId('history').waitFor();
          await check('versions');
          await dialog('publish', async () => {
            await page.getByRole('button', { name: fill(T.publish.button, { version: '1.0.2' }) }).first().click();
            await page.getByRole('dialog').getByTestId('diff').waitFor();
          }, { shot: size.name === 'desktop' });
          await dialog('draft', () => page.getByRole('button', { name: fill(T.versions.draftFrom, { version: '1.0.0' }) }).click());

          await go('/ns/team-a/servers/weather/versions/1.0.2/tools/get_weather', fill(T.editor.titleTool, { name: 'get_weather' }));
          await page.getByTestId('check-status').getByText(T.editor.valid).waitFor();
          await check('tool-editor');
          await page.getByLabel('city *').fill('Paris');
          await page.getByRole('button', { name: T.tryIt.run, exact: true }).click();
          await page.getByTestId('try-result').waitFor();
          await page.getByTestId('try-result').scrollIntoViewIfNeeded();
          await check('try-it');
          // A broken template: the error at its line and column; then leaving asks first.
          await page.getByLabel(T.editor.url).fill('/weather/{{ .args.city ');
          await page.locator('.template-error').first().waitFor();
          await page.locator('.template-error').first().scrollIntoViewIfNeeded();
          await check('tool-errors');
          await dialog('leave', () => page.getByRole('navigation', { name: T.common.breadcrumbs }).getByRole('link', { name: 'weather' }).click(), { shot: size.name === 'desktop' });
          await page.getByLabel(T.editor.url).fill('/weather');

          await page.evaluate('window.scrollTo(0, 0)');
          await go('/ns/team-a/import', T.import.title);
          await page.getByLabel(T.import.definition).fill(HIGRESS_YAML);
          await page.getByRole('button', { name: T.import.preview }).click();
          await page.getByTestId('import-preview').getByText('search_books').waitFor();
          await check('import');

          await go('/gateways', T.gateways.title);
          await page.getByTestId('gateways').getByText('gw-eu-1').waitFor();
          await check('gateways');

          await go('/ns/team-a/admin?tab=users', T.admin.title);
          await page.getByText('alice', { exact: true }).waitFor();
          await check('admin');
          await dialog('user', () => page.getByRole('button', { name: T.admin.newUser }).click());
          await dialog('password', () => page.getByRole('button', { name: T.admin.changePassword }).click());
          await go('/ns/team-a/admin?tab=tokens', T.admin.title);
          await page.getByText('ci-deploy', { exact: true }).waitFor();
          await check('admin-tokens');
          await go('/ns/team-a/admin?tab=consumers', T.admin.title);
          await page.getByTestId('consumers').getByText('cursor-team-a').waitFor();
          await check('admin-consumers');
          await dialog('consumer', async () => {
            await page.getByRole('button', { name: T.consumers.new }).click();
            await page.getByLabel(T.consumers.allowSome).check();
            await page.getByRole('button', { name: fill(T.consumers.pickTools, { server: 'weather' }) }).click();
            await page.getByLabel('get_weather', { exact: true }).waitFor();
          }, { shot: size.name === 'desktop' });

          await go('/ns/team-a/audit', T.audit.title);
          await page.getByTestId('audit').getByText('version.publish').first().waitFor();
          if (size.name === 'phone') await page.getByTestId('audit').scrollIntoViewIfNeeded();
          await check('audit');
          // An entry in full: where it came from and what changed.
          await page.getByRole('button', { name: fill(T.audit.changesOf, { action: T.audit.actions.version.save, name: 'weather' }) }).first().click();
          await page.getByRole('dialog').getByTestId('audit-changes').waitFor();
          await check('audit-detail');
          await page.keyboard.press('Escape');
          await page.getByRole('dialog').waitFor({ state: 'hidden' });

          await go('/ns/team-a/no-such-page', T.notFound.title);
          await check('not-found');
          assert.deepEqual(pageErrors, [], 'no uncaught error in the page');
        } catch (err) {
          const failed = join(tmpdir(), `mcpgate-console-a11y-failed-${lang}-${size.name}.png`);
          if (await page.screenshot({ path: failed }).then(() => true, () => false)) t.diagnostic(`the page when it failed: ${failed}`);
          throw err;
        } finally {
          await browser.close();
        }
      });
    }
  }

  await t.test('zero serious or critical axe-core violations on every page and dialog', () => {
    t.diagnostic(`axe-core ran on ${audits} page and dialog states (2 languages × 2 window sizes): ${findings.length} serious or critical violations`);
    assert.ok(audits >= 100, `${audits} audits`);
    assert.deepEqual(findings.map((f) => `${f.where}: ${f.rule} (${f.impact}) ${f.help} — ${f.targets.slice(0, 3).join(', ')}`), []);
  });

  await t.test('no page is wider than a 390 px phone', () => {
    assert.deepEqual(widths, []);
  });

  await t.test('the language is switched in the console and remembered; dates and numbers follow it', async () => {
    const browser = await openBrowser({ locale: 'en-US' });
    const page = browser.page;
    try {
      await logIn(page);
      await page.getByLabel(TEXTS.en.shell.language).selectOption('zh-CN');
      await page.getByRole('heading', { level: 1, name: TEXTS['zh-CN'].servers.title }).waitFor();
      assert.equal(await page.evaluate<string>('document.documentElement.lang'), 'zh-CN');
      await page.goto(`${R}/ns/team-a/servers/weather/versions`);
      await page.getByRole('heading', { level: 1, name: fill(TEXTS['zh-CN'].versions.title, { name: 'weather' }) }).waitFor();
      const firstPublished = await page.getByRole('row').filter({ hasText: '1.0.0' }).first().getByRole('cell').nth(4).innerText();
      assert.match(firstPublished, /\d{4}年\d{1,2}月\d{1,2}日/, 'a date in Chinese form');
      await page.reload();
      await page.getByRole('heading', { level: 1, name: fill(TEXTS['zh-CN'].versions.title, { name: 'weather' }) }).waitFor();
      assert.equal(await page.evaluate<string | null>("localStorage.getItem('mcpgate.console.lang')"), 'zh-CN', 'remembered');
      await page.getByLabel(TEXTS['zh-CN'].shell.language).selectOption('en');
      await page.getByRole('heading', { level: 1, name: fill(TEXTS.en.versions.title, { name: 'weather' }) }).waitFor();
      assert.match(await page.getByRole('row').filter({ hasText: '1.0.0' }).first().getByRole('cell').nth(4).innerText(), /[A-Z][a-z]{2} \d{1,2}, \d{4}/);
    } finally {
      await browser.close();
    }
  });

  await t.test('dark mode follows the system setting, and stays accessible', async () => {
    const browser = await openBrowser({ colorScheme: 'dark' });
    const page = browser.page;
    try {
      await logIn(page);
      assert.equal(await page.evaluate<string>('getComputedStyle(document.documentElement).backgroundColor'), 'rgb(16, 22, 31)');
      const dark: AxeFinding[] = [];
      dark.push(...(await axeAudit(page, 'servers (dark)')));
      await page.goto(`${R}/ns/team-a/servers/weather`);
      await page.getByTestId('agent-url').waitFor();
      dark.push(...(await axeAudit(page, 'server (dark)')));
      await page.screenshot({ path: join(SHOTS, 'console-server-dark.png') });
      await page.goto(`${R}/ns/team-a/servers/weather/versions`);
      await page.getByTestId('diff').waitFor();
      dark.push(...(await axeAudit(page, 'versions (dark)')));
      await page.goto(`${R}/ns/team-a/servers/weather/versions/1.0.2/tools/get_weather`);
      await page.getByTestId('tool-card').waitFor();
      dark.push(...(await axeAudit(page, 'tool editor (dark)')));
      assert.deepEqual(dark.map((f) => `${f.where}: ${f.rule} ${f.help} — ${f.targets.slice(0, 3).join(', ')}`), []);
    } finally {
      await browser.close();
    }
  });

});
