// The console shows what Higress and Nacos compatibility adds: the warnings of a Higress
// definition accepted as Higress accepts it (import preview, tool editor), and the revisions of
// a version overwritten through the Nacos v3 API (publish history, diff of revision against
// revision), driven in a real browser against a real stack.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { browserSkipReason, ensureConsoleBuilt, logIn, openBrowser, TEXTS } from './support/browser.js';
import { http } from './support/http.js';
import { startStack } from './support/stack.js';

const T = TEXTS.en;
const fill = (text: string, vars: Record<string, string | number> = {}) => text.replace(/\{\{(\w+)\}\}/g, (_, k: string) => String(vars[k] ?? ''));
const FIXTURES = resolve(import.meta.dirname, 'fixtures/higress-compat');

const serverSpecification = JSON.stringify({ name: 'forecast', protocol: 'http', frontProtocol: 'mcp-streamable', description: 'Forecasts', versionDetail: { version: '1.0.0' } });
const endpointSpecification = JSON.stringify({ type: 'DIRECT', data: { address: '127.0.0.1', port: 9 } });
const toolSpecification = (description: string) => JSON.stringify({
  tools: [{ name: 'get_forecast', description, inputSchema: { type: 'object', properties: { city: { type: 'string' } } } }],
  toolsMeta: { get_forecast: { enabled: true, templates: { 'json-go-template': { requestTemplate: { url: '/forecast', method: 'GET' }, responseTemplate: { body: '{{.}}' } } } } },
});

test('the console: Higress warnings and Nacos revisions', { skip: browserSkipReason(), timeout: 300_000 }, async (t) => {
  ensureConsoleBuilt();
  const stack = await startStack({ auth: true });
  const R = stack.registryUrl;
  const token = (await http<{ accessToken: string }>('POST', `${R}/api/v1/auth/login`, { body: { username: 'admin', password: 'admin-password-1' } })).body.accessToken;
  const browser = await openBrowser();
  const { page, pageErrors } = browser;
  try {
    await logIn(page, R, T);

    await t.test('the import preview lists each warning with file, tool and field', async () => {
      await page.goto(`${R}/ns/public/import`);
      await page.locator('#import-file').setInputFiles({ name: 'lenient-args.yaml', mimeType: 'text/yaml', buffer: readFileSync(join(FIXTURES, 'lenient-args.yaml')) });
      await page.getByRole('button', { name: T.import.preview, exact: true }).click();
      const warnings = page.getByTestId('import-warnings');
      await warnings.waitFor();
      const text = await warnings.innerText();
      assert.ok(text.includes(fill(T.import.warnings_other, { count: 4 })), text);
      assert.ok(text.includes('lenient-args.yaml · start-job · tools[0](start-job).args[1].type'), text);
      assert.ok(text.includes('lenient-args.yaml · nearby · tools[1](nearby).args[2].name'), text);
      await page.getByRole('button', { name: T.import.asDraft }).click();
      await page.getByRole('heading', { level: 1, name: 'compat-lenient-args' }).waitFor();
    });

    await t.test('the tool editor shows the spec\'s warnings', async () => {
      await page.goto(`${R}/ns/public/servers/compat-lenient-args/versions/1.0.0/tools/extract`);
      const warnings = page.getByTestId('spec-warnings');
      await warnings.waitFor();
      const text = await warnings.innerText();
      assert.ok(text.includes(fill(T.editor.warnings_other, { count: 2 })), text);
      assert.ok(text.includes('inputSchema/properties/shape/properties/title/required'), text);
    });

    await t.test('a version overwritten through Nacos: the history names the revision, the diff compares revisions', async () => {
      const nacos = `${R}/nacos/v3/admin/ai/mcp?accessToken=${encodeURIComponent(token)}`;
      const created = await http('POST', nacos, { form: { serverSpecification, toolSpecification: toolSpecification('Forecast by city'), endpointSpecification } });
      assert.equal(created.status, 200, created.text);
      const put = await http('PUT', nacos, { form: { serverSpecification, toolSpecification: toolSpecification('Forecast by city, edited'), endpointSpecification, latest: 'true' } });
      assert.equal(put.status, 200, put.text);

      await page.goto(`${R}/ns/public/servers/forecast/versions`);
      const history = page.getByTestId('history');
      await history.getByText(T.history.actions.overwrite, { exact: true }).waitFor();
      const rows = await history.innerText();
      assert.ok(rows.includes(fill(T.history.revision, { revision: 2 })), rows);
      await page.getByLabel(T.diff.from, { exact: true }).selectOption('1.0.0@1');
      await page.getByLabel(T.diff.to, { exact: true }).selectOption('1.0.0');
      await page.getByText('edited').first().waitFor();
      assert.deepEqual(pageErrors, []);
    });
  } finally {
    await browser.close();
    await stack.close();
  }
});
