/**
 * The console with upstream MCP servers, end to end (Playwright + Debian's Chromium against a
 * real `mcpgate serve`, registry auth on, and a real SDK upstream MCP server): the server form's
 * fields for each protocol (the MCP URL, exportPath on services and addresses, stdio's command,
 * arguments and environment in the draft), "Import tools" from the running server into a draft
 * (its result shown; the registry's descriptions kept on a re-import), and "try it" of an
 * imported tool, which calls the upstream through the gateway's executor.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { startHttpUpstream } from './fixtures/mcp/http-upstreams.js';
import { join } from 'node:path';
import { axeAudit, browserSkipReason, ensureConsoleBuilt, logIn, openBrowser, screenshotDir, TEXTS } from './support/browser.js';
import { adminApi } from './support/http.js';
import { startStack } from './support/stack.js';

const T = TEXTS.en;
const skip = browserSkipReason();
const fill = (text: string, vars: Record<string, string | number> = {}) => text.replace(/\{\{(\w+)\}\}/g, (_, k: string) => String(vars[k] ?? ''));
const STDIO_FIXTURE = resolve(import.meta.dirname, 'fixtures/mcp/stdio-server.mjs');

test('the console with upstream MCP servers: protocol fields, import tools, try it', { skip, timeout: 300_000 }, async (t) => {
  ensureConsoleBuilt();
  const up = await startHttpUpstream();
  const stack = await startStack({ auth: true });
  const R = stack.registryUrl;
  const { api } = await adminApi(R);
  const browser = await openBrowser();
  const { page, pageErrors } = browser;
  const toast = (text: string | RegExp) => page.locator('.notice').filter({ hasText: text }).first().waitFor();
  try {
    assert.equal((await api('POST', '/namespaces/public/mcp-servers', {
      name: 'upstream-fx', protocol: 'mcp-streamable', endpoint: { type: 'url', url: up.url('/mcp') }, publish: true,
      spec: { version: '1.0.0', description: 'fronts the fixture', tools: [] },
    })).status, 201);
    assert.equal((await api('POST', '/namespaces/public/mcp-servers', {
      name: 'stdio-fx', protocol: 'stdio', endpoint: { type: 'none' }, publish: false,
      spec: { version: '1.0.0', description: 'a stdio server', tools: [], config: { command: 'node', args: ['old.js'] } },
    })).status, 201);

    await t.test('log in', async () => {
      await logIn(page, R, T);
    });

    await t.test('import tools from the running server into a new draft; the dialog shows them', async () => {
      await page.goto(`${R}/ns/public/servers/upstream-fx`);
      await page.getByRole('button', { name: T.importTools.button }).click();
      const dialog = page.getByRole('dialog');
      assert.equal(await dialog.getByLabel(T.importTools.version).inputValue(), '1.0.1', 'a new draft after the published version');
      await dialog.getByRole('button', { name: T.importTools.run }).click();
      await dialog.getByTestId('import-result').waitFor();
      const listed = await dialog.locator('.import-list code').allInnerTexts();
      for (const name of ['echo', 'sleep', 'fails']) assert.ok(listed.includes(name), `${name} in ${listed.join(', ')}`);
      await toast(fill(T.importTools.done, { count: listed.length, version: '1.0.1' }));
      assert.deepEqual(await axeAudit(page, 'the import tools dialog'), [], 'no serious accessibility finding in the dialog');
      await page.screenshot({ path: join(screenshotDir(), 'console-import-tools.png'), style: '.notices { display: none !important; }' });
      await dialog.getByRole('button', { name: T.importTools.close }).click();
      // Saved as the draft: the page now works on it.
      await page.getByText(fill(T.tools.ofDraft, { version: '1.0.1' })).waitFor();
      await page.getByRole('link', { name: 'echo', exact: true }).waitFor();
      const draft = (await api<{ status: string; spec: { tools: { name: string; template: unknown }[] } }>('GET', '/namespaces/public/mcp-servers/upstream-fx/versions/1.0.1')).body;
      assert.equal(draft.status, 'draft');
      assert.ok(draft.spec.tools.some((x) => x.name === 'echo' && x.template === null), 'imported as upstream tools (no template)');
    });

    await t.test('a re-import into the draft keeps the registry\'s description of a tool', async () => {
      const read = await api<{ etag: string; spec: { tools: { name: string; description: string }[] } & Record<string, unknown> }>('GET', '/namespaces/public/mcp-servers/upstream-fx/versions/1.0.1');
      const spec = { ...read.body.spec, tools: read.body.spec.tools.map((x) => (x.name === 'echo' ? { ...x, description: 'Echo, as the registry says' } : x)) };
      assert.equal((await api('PUT', '/namespaces/public/mcp-servers/upstream-fx/versions/1.0.1', { spec })).status, 200);
      await page.reload();
      await page.getByRole('button', { name: T.importTools.button }).click();
      const dialog = page.getByRole('dialog');
      assert.equal(await dialog.getByLabel(T.importTools.version).inputValue(), '1.0.1', 'into the draft being worked on');
      await dialog.getByText(T.importTools.intoDraft).waitFor();
      await dialog.getByRole('button', { name: T.importTools.run }).click();
      await dialog.getByTestId('import-result').waitFor();
      await dialog.getByRole('button', { name: T.importTools.close }).click();
      const after = (await api<{ spec: { tools: { name: string; description: string }[] } }>('GET', '/namespaces/public/mcp-servers/upstream-fx/versions/1.0.1')).body;
      assert.equal(after.spec.tools.find((x) => x.name === 'echo')?.description, 'Echo, as the registry says');
    });

    await t.test('try it: an imported tool runs against the upstream through the executor', async () => {
      await page.getByRole('link', { name: 'echo', exact: true }).click();
      await page.getByRole('heading', { name: T.tryIt.title }).waitFor();
      await page.getByLabel('text *', { exact: true }).fill('hello upstream');
      const before = up.seen.length;
      await page.getByRole('button', { name: T.tryIt.run, exact: true }).click();
      await page.getByText(T.tryIt.mcpResult).waitFor().catch(async (err: unknown) => {
        throw new Error(`${String(err)}\n${(await page.locator('main').innerText()).slice(-1500)}`);
      });
      assert.match(await page.locator('main').innerText(), /hello upstream/);
      assert.ok(up.seen.length > before, 'the upstream received the call');
    });

    await t.test('server settings: MCP URL for a URL endpoint, exportPath for a direct address', async () => {
      await page.goto(`${R}/ns/public/servers/upstream-fx`);
      const url = page.getByLabel(T.endpoint.mcpUrl);
      assert.equal(await url.inputValue(), up.url('/mcp'));
      await page.getByLabel(T.endpoint.type).selectOption('direct');
      await page.getByLabel(T.endpoint.address).fill('127.0.0.1');
      await page.getByLabel(T.endpoint.port, { exact: true }).fill(String(up.port));
      await page.getByLabel(T.endpoint.exportPath).fill('/mcp');
      await page.getByRole('button', { name: T.settings.save }).click();
      await toast(T.settings.saved);
      const s = (await api<{ endpoint: Record<string, unknown> }>('GET', '/namespaces/public/mcp-servers/upstream-fx')).body;
      assert.deepEqual(s.endpoint, { type: 'direct', address: '127.0.0.1', port: up.port, exportPath: '/mcp' });
    });

    await t.test('stdio: command, arguments and environment edited in the draft\'s configuration; import starts it', async () => {
      await page.goto(`${R}/ns/public/servers/stdio-fx`);
      await page.getByText(T.endpoint.stdio).waitFor();
      const launch = page.getByTestId('stdio-launch');
      assert.equal(await launch.getByLabel(T.stdio.command).inputValue(), 'node');
      assert.equal(await launch.getByLabel(T.stdio.args).inputValue(), 'old.js');
      await launch.getByLabel(T.stdio.command).fill(process.execPath);
      await launch.getByLabel(T.stdio.args).fill(STDIO_FIXTURE);
      await launch.getByLabel(T.stdio.env).fill('FIXTURE_MODE=console\nEMPTY=');
      await launch.scrollIntoViewIfNeeded();
      await launch.screenshot({ path: join(screenshotDir(), 'console-stdio-launch.png') });
      await page.getByRole('button', { name: T.draftSettings.save }).click();
      await toast(fill(T.draftSettings.saved, { version: '1.0.0' }));
      const v = (await api<{ spec: { config: Record<string, unknown> } }>('GET', '/namespaces/public/mcp-servers/stdio-fx/versions/1.0.0')).body;
      assert.deepEqual(v.spec.config, { command: process.execPath, args: [STDIO_FIXTURE], env: { FIXTURE_MODE: 'console', EMPTY: '' } });
      await page.getByRole('button', { name: T.importTools.button }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByText(T.importTools.introStdio).waitFor();
      await dialog.getByRole('button', { name: T.importTools.run }).click();
      await dialog.getByTestId('import-result').waitFor();
      assert.ok((await dialog.locator('.import-list code').allInnerTexts()).includes('pid'));
      await dialog.getByRole('button', { name: T.importTools.close }).click();
    });

    await t.test('an upstream that is not running: the import says why and saves nothing', async () => {
      assert.equal((await api('POST', '/namespaces/public/mcp-servers', {
        name: 'gone-fx', protocol: 'mcp-streamable', endpoint: { type: 'url', url: 'http://127.0.0.1:9/mcp' }, publish: true,
        spec: { version: '1.0.0', description: 'nothing there', tools: [] },
      })).status, 201);
      await page.goto(`${R}/ns/public/servers/gone-fx`);
      await page.getByRole('button', { name: T.importTools.button }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByRole('button', { name: T.importTools.run }).click();
      await dialog.getByText(/UPSTREAM_UNREACHABLE/).first().waitFor();
      assert.equal((await api('GET', '/namespaces/public/mcp-servers/gone-fx/versions/1.0.1')).status, 404);
    });

    assert.deepEqual(pageErrors, [], 'no page errors');
  } finally {
    await browser.close();
    await stack.close();
    await up.close();
  }
});
