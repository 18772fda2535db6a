/**
 * The console's Activity pages in a real browser (Playwright driving Debian's Chromium) against a
 * real `mcpgate serve` with auth on, after real agents (MCP SDK clients) called tools through its
 * gateway, some calls failing: the failing tool first, its last errors with the request and answer
 * redacted, the agents calling; no serious accessibility finding; the screenshots of docs/images/
 * (with MCPGATE_UPDATE_SCREENSHOTS=1).
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { axeAudit, browserSkipReason, ensureConsoleBuilt, logIn, openBrowser, screenshotDir, sidewaysOverflow, TEXTS } from './support/browser.js';
import type { Lang } from './support/browser.js';
import { restTool, waitFor } from './support/gateway.js';
import { adminApi } from './support/http.js';
import { startBackend, startStack } from './support/stack.js';

const skip = browserSkipReason();

test('the Activity pages show which tool breaks, its redacted last errors and the agents calling', { skip, timeout: 300_000 }, async (t) => {
  ensureConsoleBuilt();
  const SHOTS = screenshotDir();
  mkdirSync(SHOTS, { recursive: true });
  let slow = 0;
  const backend = await startBackend((r, res) => {
    const q = new URLSearchParams(r.query);
    if (r.path === '/alerts') {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'alert feed unavailable', region: q.get('region') }));
      return;
    }
    if (r.path === '/geocode' && q.get('place') === 'Atlantis') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `no place named ${q.get('place')}` }));
      return;
    }
    // Some answers take a while, for a latency spread.
    const wait = r.path === '/forecast' && ++slow % 4 === 0 ? 120 : 0;
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, city: q.get('city'), temp: 21 }));
    }, wait);
  });
  t.after(() => backend.close());
  const stack = await startStack({ auth: true });
  t.after(() => stack.close());
  const R = stack.registryUrl;
  const { apiOk: api, token } = await adminApi(R);
  await api('POST', '/namespaces', { id: 'team-a', name: 'Team A' });
  const tool = (name: string, p: string, properties: Record<string, unknown>) => restTool(name, { url: `${backend.url}${p}`, properties, argsToUrlParam: true });
  await api('POST', '/namespaces/team-a/mcp-servers', {
    name: 'weather', protocol: 'http', endpoint: { type: 'url', url: backend.url }, publish: true,
    spec: { version: '1.0.0', tools: [tool('forecast', '/forecast', { city: { type: 'string' } }), tool('alerts', '/alerts', { region: { type: 'string' }, apiKey: { type: 'string' } }), tool('geocode', '/geocode', { place: { type: 'string' } })] },
  });
  await api('POST', '/namespaces/team-a/mcp-servers', {
    name: 'tickets', protocol: 'http', endpoint: { type: 'url', url: backend.url }, publish: true,
    spec: { version: '1.0.0', tools: [tool('create_ticket', '/tickets', { title: { type: 'string' } }), tool('list_tickets', '/tickets', {})] },
  });
  // Open namespaces need no consumer key: the agents call the in-process gateway directly.
  const agent = async (server: string, name: string, version: string) => {
    const client = new Client({ name, version });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${stack.gatewayUrl}/mcp/team-a/${server}`)));
    return client;
  };
  const claude = await agent('weather', 'claude-code', '2.1.0');
  const cursor = await agent('weather', 'cursor', '1.7.2');
  const desk = await agent('tickets', 'helpdesk-bot', '0.4.0');
  for (let i = 0; i < 12; i++) await claude.callTool({ name: 'forecast', arguments: { city: ['Paris', 'Lyon', 'Nice'][i % 3] } });
  for (let i = 0; i < 5; i++) await cursor.callTool({ name: 'forecast', arguments: { city: 'Berlin' } });
  for (let i = 0; i < 3; i++) await claude.callTool({ name: 'alerts', arguments: { region: 'north', apiKey: 'k-live-7f3a9c2e' } });
  await cursor.callTool({ name: 'alerts', arguments: { region: 'south' } });
  for (const place of ['Paris', 'Atlantis', 'Lyon', 'Rome']) await cursor.callTool({ name: 'geocode', arguments: { place } });
  for (let i = 0; i < 6; i++) await desk.callTool({ name: 'list_tickets', arguments: {} });
  for (let i = 0; i < 2; i++) await desk.callTool({ name: 'create_ticket', arguments: { title: `printer ${i}` } });
  for (const c of [claude, cursor, desk]) await c.close();
  // `mcpgate serve` stores its gateway's counts every few seconds.
  await waitFor('activity stored', async () => {
    const r = await fetch(`${R}/api/v1/namespaces/team-a/activity`, { headers: { authorization: `Bearer ${token}` } });
    const body = await r.json() as { totals: { calls: number } };
    return body.totals.calls === 33;
  }, 30_000, 250);

  for (const lang of ['en', 'zh-CN'] as Lang[]) {
    const T = TEXTS[lang];
    for (const size of [{ width: 1280, height: 900, name: 'desktop' }, { width: 390, height: 844, name: 'phone' }]) {
      await t.test(`in ${lang} at ${size.width}×${size.height}`, async () => {
        const browser = await openBrowser({ width: size.width, height: size.height, locale: lang === 'en' ? 'en-US' : 'zh-CN' });
        const { page, pageErrors } = browser;
        const suffix = `${lang === 'en' ? '' : '-zh'}${size.name === 'phone' ? '-phone' : ''}`;
        const check = async (name: string) => {
          assert.deepEqual(await axeAudit(page, `${name} ${lang} ${size.name}`), []);
          if (size.name === 'phone') assert.ok(await sidewaysOverflow(page) <= 1, `${name} fits a phone's width`);
          await page.screenshot({ path: join(SHOTS, `console-${name}${suffix}.png`), fullPage: size.name === 'desktop', style: '.notices { display: none !important; }' });
        };
        try {
          await logIn(page, R, T);
          await page.goto(`${R}/ns/team-a/activity`);
          await page.getByRole('heading', { level: 1, name: T.activity.title }).waitFor();
          await page.getByTestId('activity-server').first().waitFor();
          // The failing server first, and in it the failing tool first.
          const servers = await page.getByTestId('activity-server').locator('h3').allTextContents();
          assert.deepEqual(servers, ['weather', 'tickets']);
          const firstTools = await page.getByTestId('activity-server').first().locator('tbody > tr > td:first-child a').allTextContents();
          assert.deepEqual(firstTools, ['alerts', 'geocode', 'forecast']);
          assert.match(await page.getByTestId('activity-totals').textContent() ?? '', /33/);
          await check('activity');

          // The server's page, from its detail page's link.
          await page.goto(`${R}/ns/team-a/servers/weather`);
          await page.getByTestId('server-activity-link').click();
          await page.getByRole('heading', { level: 1, name: T.activity.serverTitle.replace('{{server}}', 'weather') }).waitFor();
          const samples = page.getByTestId('activity-errors');
          await samples.waitFor();
          const text = await samples.textContent() ?? '';
          assert.match(text, /backend_status/);
          assert.match(text, /alert feed unavailable/);
          assert.ok(!text.includes('k-live-7f3a9c2e'), 'the argument named like a secret is hidden');
          assert.match(await page.getByTestId('activity-agents').textContent() ?? '', /claude-code[\s\S]*cursor/);
          await check('activity-server');

          await page.getByTestId('activity-tools').getByRole('link', { name: 'alerts', exact: true }).click();
          await page.getByRole('heading', { level: 1, name: T.activity.toolTitle.replace('{{server}}', 'weather').replace('{{tool}}', 'alerts') }).waitFor();
          await page.getByTestId('activity-errors').waitFor();
          assert.equal(await page.getByTestId('activity-errors').locator('li').count(), 4);
          await page.getByTestId('window-24h').click();
          await page.waitForURL(/window=24h/);
          await page.getByTestId('activity-errors').waitFor();
          await check('activity-tool');
          assert.deepEqual(pageErrors, []);
        } finally {
          await browser.close();
        }
      });
    }
  }
});
