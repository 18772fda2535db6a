/**
 * The console's virtual server editor, in Debian's Chromium against `mcpgate serve` (auth off):
 * members picked from the namespace's servers, a rename, the tools/list preview an agent will
 * see, a conflict shown with the field the registry names, the members saved to the draft and
 * served once published; a member that is down shown on the Gateways page and in the preview.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browserSkipReason, ensureConsoleBuilt, openBrowser, TEXTS } from './support/browser.js';
import { createMcpServer, modernPost, restTool, waitFor } from './support/gateway.js';
import { http } from './support/http.js';
import { startBackend, startStack } from './support/stack.js';

const T = TEXTS.en;
const skip = browserSkipReason();

test('the console edits a virtual server\'s members and previews its tools/list', { skip, timeout: 180_000 }, async () => {
  ensureConsoleBuilt();
  const backend = await startBackend((_r, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  const stack = await startStack();
  const R = stack.registryUrl;
  const endpoint = { type: 'direct', address: '127.0.0.1', port: backend.port };
  await createMcpServer(R, 'public', { name: 'weather', endpoint, spec: { version: '1.0.0', tools: [restTool('now', { url: '/w' })] } });
  await createMcpServer(R, 'public', { name: 'shop', endpoint, spec: { version: '1.0.0', tools: [restTool('now', { url: '/s' }), restTool('buy', { url: '/b' })] } });
  const created = await http('POST', `${R}/api/v1/namespaces/public/mcp-servers`, { body: { name: 'desk', protocol: 'virtual', publish: false, spec: { version: '1.0.0', tools: [] } } });
  assert.equal(created.status, 201, created.text);
  const browser = await openBrowser();
  const { page, pageErrors } = browser;
  try {
    await page.goto(`${R}/ns/public/servers/desk`);
    const panel = page.getByTestId('virtual-members');
    await panel.waitFor();
    for (const server of ['weather', 'shop']) {
      await panel.getByRole('button', { name: T.virtual.add }).click();
      await panel.getByLabel(T.virtual.server).last().selectOption(server);
    }
    await panel.getByLabel(T.virtual.naming).selectOption('none');
    await panel.getByRole('button', { name: T.virtual.preview }).click();
    // Both members give `now`: the registry refuses, naming both.
    await panel.getByText(/conflicts with member 'weather'/).waitFor();
    await panel.getByLabel(T.virtual.rename).last().fill('now=shop_now');
    await panel.getByRole('button', { name: T.virtual.preview }).click();
    const preview = panel.getByTestId('virtual-preview');
    await preview.waitFor();
    assert.deepEqual(await preview.locator('tbody tr td:first-child').allInnerTexts(), ['now', 'buy', 'shop_now']);
    await panel.getByRole('button', { name: T.virtual.save }).click();
    await waitFor('the members saved', async () => {
      const v = await http('GET', `${R}/api/v1/namespaces/public/mcp-servers/desk/versions/1.0.0`);
      return ((v.body as { spec: { virtual?: { members: unknown[] } } }).spec.virtual?.members.length ?? 0) === 2;
    });
    assert.equal((await http('POST', `${R}/api/v1/namespaces/public/mcp-servers/desk/versions/1.0.0/publish`, { body: {} })).status, 200);
    const listed = await waitFor('desk served', async () => {
      const r = await modernPost(`${stack.gatewayUrl}/mcp/public/desk`, 1, 'tools/list');
      return r.status === 200 ? r : undefined;
    });
    assert.deepEqual((listed.body as { result: { tools: { name: string }[] } }).result.tools.map((t) => t.name), ['now', 'buy', 'shop_now']);

    // A member that is down: left out, and shown on the Gateways page and in the editor's preview.
    await createMcpServer(R, 'public', { name: 'gone', protocol: 'mcp-streamable', endpoint: { type: 'url', url: 'http://127.0.0.1:1/mcp' }, spec: { version: '1.0.0', tools: [] } });
    const broken = await http('POST', `${R}/api/v1/namespaces/public/mcp-servers`, {
      body: { name: 'broken', protocol: 'virtual', publish: true, spec: { version: '1.0.0', tools: [], virtual: { members: [{ server: 'weather' }, { server: 'gone' }], listDeadlineMs: 500 } } },
    });
    assert.equal(broken.status, 201, broken.text);
    await waitFor('broken served without its down member', async () => {
      const r = await modernPost(`${stack.gatewayUrl}/mcp/public/broken`, 1, 'tools/list');
      return r.status === 200 && JSON.stringify(r.body).includes('weather__now');
    });
    await page.goto(`${R}/gateways`);
    await page.getByTestId('virtual-member-down').filter({ hasText: 'gone in public/broken' }).filter({ hasText: T.gateways.member.down }).waitFor({ timeout: 30_000 });
    await page.goto(`${R}/ns/public/servers/broken`);
    const brokenPanel = page.getByTestId('virtual-members');
    await brokenPanel.getByRole('button', { name: T.virtual.preview }).click();
    await brokenPanel.getByTestId('virtual-running').filter({ hasText: 'gone' }).waitFor();
    assert.deepEqual(pageErrors, []);
  } finally {
    await browser.close();
    await stack.close();
    await backend.close();
  }
});
