/**
 * The console's MCP authorization forms, in a real Chromium against a real registry and OpenID
 * provider: the namespace's settings (Admin → Authorization) and a draft's override in the server
 * page. An issuer whose metadata cannot be read is refused under its field; valid settings save,
 * client secrets come back as ****** and stay stored; axe-core finds nothing serious; the
 * screenshots of docs/images/ (with MCPGATE_UPDATE_SCREENSHOTS=1).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { axeAudit, browserSkipReason, ensureConsoleBuilt, logIn, openBrowser, screenshotDir, sidewaysOverflow, TEXTS } from './support/browser.js';
import { adminApi } from './support/http.js';
import { startOidcProvider } from './support/oidc.js';
import { restTool } from './support/gateway.js';
import { startBackend, startStack } from './support/stack.js';

const skip = browserSkipReason();
const T = TEXTS.en;
const fill = (text: string, vars: Record<string, string | number> = {}) => text.replace(/\{\{(\w+)\}\}/g, (_, k: string) => String(vars[k] ?? ''));

test('the console edits MCP authorization: namespace settings and a server override, validated, secrets redacted, accessible', { skip, timeout: 300_000 }, async (t) => {
  ensureConsoleBuilt();
  const idp = await startOidcProvider({ scopes: ['mcp', 'orders:read'] });
  t.after(() => idp.close());
  const backend = await startBackend((_r, res) => res.end('{}'));
  t.after(() => backend.close());
  const stack = await startStack({ auth: true });
  t.after(() => stack.close());
  const R = stack.registryUrl;
  const { apiOk: api } = await adminApi(R);
  await api('POST', '/namespaces', { id: 'team-a', name: 'Team A' });
  await api('POST', '/namespaces/team-a/mcp-servers', {
    name: 'orders', protocol: 'http', endpoint: { type: 'url', url: backend.url }, publish: true,
    spec: { version: '1.0.0', tools: [restTool('get_order', { url: '/orders/1' })] },
  });
  await api('PUT', '/namespaces/team-a/mcp-servers/orders/versions/1.0.1', { spec: { version: '1.0.1', tools: [restTool('get_order', { url: '/orders/1' })] } });

  const SHOTS = screenshotDir();
  for (const size of [{ width: 1280, height: 800, suffix: '' }, { width: 390, height: 844, suffix: '-phone' }]) {
    await t.test(`at ${size.width}×${size.height}`, async () => {
      const { page, pageErrors, close } = await openBrowser({ width: size.width, height: size.height });
      try {
        await logIn(page, R, T);
        const audit = async (where: string) => {
          assert.deepEqual(await axeAudit(page, where), [], `axe-core findings on ${where}`);
          if (size.suffix) assert.ok((await sidewaysOverflow(page)) <= 1, `${where} is wider than the phone`);
        };

        // ---- the namespace's settings
        await page.goto(`${R}/ns/team-a/admin?tab=authorization`);
        await page.getByRole('heading', { level: 2, name: fill(T.authz.namespaceTitle, { namespace: 'team-a' }) }).waitFor();
        await audit('namespace authorization (empty)');
        const form = page.getByRole('form', { name: T.authz.save });
        if (size.suffix === '') {
          await form.getByLabel(T.authz.enabled).check();
          await form.getByRole('button', { name: T.authz.addIssuer }).click();
          const issuer = form.getByLabel(fill(T.authz.issuer, { n: 1 }), { exact: true });
          // Nothing listens there: the registry cannot read its metadata.
          await issuer.fill('http://127.0.0.1:1');
          await form.getByRole('button', { name: T.authz.save }).click();
          await page.locator('[aria-invalid="true"]').first().waitFor();
          assert.equal(await issuer.getAttribute('aria-invalid'), 'true');
          const described = (await issuer.getAttribute('aria-describedby')) ?? '';
          const message = await page.locator(`[id="${described.split(' ').find((id) => id.endsWith('-error'))}"]`).textContent();
          assert.match(message ?? '', /authorization\.issuers\[0\]\.issuer: the issuer's metadata could not be read/);
          await audit('namespace authorization (issuer refused)');
          assert.deepEqual((await api('GET', '/namespaces/team-a/authorization')).body, {}, 'nothing was saved');

          await issuer.fill(idp.issuer);
          await form.getByLabel(fill(T.authz.introspection, { n: 1 }), { exact: true }).fill(`${idp.issuer}/token/introspection`);
          await form.getByLabel(fill(T.authz.clientId, { n: 1 }), { exact: true }).fill(idp.gatewayClient.clientId);
          await form.getByLabel(fill(T.authz.clientSecret, { n: 1 }), { exact: true }).fill(idp.gatewayClient.clientSecret);
          await form.getByLabel(T.authz.requiredScopes).fill('mcp');
          await form.getByLabel(T.authz.scopeGrants).fill('{"orders:read": [{"server": "orders", "tools": ["get_order"]}]}');
          await form.getByLabel(T.authz.perCallerRate).fill('5');
          await form.getByLabel(T.authz.perCallerBurst).fill('10');
          await form.getByRole('button', { name: T.authz.save }).click();
          await page.getByText(fill(T.authz.saved, { namespace: 'team-a' })).first().waitFor();
          const stored = (await api('GET', '/namespaces/team-a/authorization')).body as { issuers: { introspection: { clientSecret: string } }[]; rateLimits: unknown };
          assert.equal(stored.issuers[0]!.introspection.clientSecret, '******');
          assert.deepEqual(stored.rateLimits, { perCaller: { ratePerSecond: 5, burst: 10 } });
          const snapshot = (await api('GET', '/watch/snapshot')).body as { namespaceAuthorization: Record<string, { issuers: { introspection: { clientSecret: string } }[] }> };
          assert.equal(snapshot.namespaceAuthorization['team-a']!.issuers[0]!.introspection.clientSecret, idp.gatewayClient.clientSecret, 'the secret is stored');
        }
        // Read back: the secret reads ******, in a password field.
        await page.reload();
        const secret = page.getByRole('form', { name: T.authz.save }).getByLabel(fill(T.authz.clientSecret, { n: 1 }), { exact: true });
        assert.equal(await secret.inputValue(), '******');
        assert.equal(await secret.getAttribute('type'), 'password');
        await audit('namespace authorization (saved)');
        await page.screenshot({ path: join(SHOTS, `console-authorization${size.suffix}.png`), fullPage: size.suffix === '', style: '.notices { display: none !important; }' });

        // ---- a server's override, saved with its draft
        await page.goto(`${R}/ns/team-a/servers/orders`);
        const override = page.getByTestId('authorization-override');
        await override.getByRole('heading', { level: 2, name: fill(T.authz.overrideTitle, { version: '1.0.1' }) }).waitFor();
        if (size.suffix === '') {
          await override.getByLabel(T.authz.requiredScopes).fill('mcp "quoted"');
          await override.getByRole('button', { name: T.authz.overrideSave }).click();
          const scopes = override.getByLabel(T.authz.requiredScopes);
          await override.locator('[aria-invalid="true"]').first().waitFor();
          assert.equal(await scopes.getAttribute('aria-invalid'), 'true');
          await audit('server authorization override (refused)');
          await scopes.fill('mcp orders:read');
          await override.getByLabel(T.authz.perToolRate).fill('1');
          await override.getByLabel(T.authz.perToolBurst).fill('2');
          await override.getByRole('button', { name: T.authz.overrideSave }).click();
          await page.getByText(fill(T.authz.overrideSaved, { version: '1.0.1' })).first().waitFor();
          const v = (await api('GET', '/namespaces/team-a/mcp-servers/orders/versions/1.0.1')).body as { spec: { authorization: unknown } };
          assert.deepEqual(v.spec.authorization, { requiredScopes: ['mcp', 'orders:read'], rateLimits: { perTool: { ratePerSecond: 1, burst: 2 } } });
        }
        await audit('server authorization override');
        assert.deepEqual(pageErrors, []);
      } catch (err) {
        const failed = join(SHOTS, `failed-authorization${size.suffix}.png`);
        if (await page.screenshot({ path: failed }).then(() => true, () => false)) t.diagnostic(`the page when it failed: ${failed}`);
        throw err;
      } finally {
        await close();
      }
    });
  }
});
