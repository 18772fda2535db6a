// The image as deploy/Dockerfile builds it, without a Docker engine: the Dockerfile is read as
// Docker reads it, the image's /app is laid out on this machine from its runtime stage's COPY
// lines (dist/ compiled fresh, as its build stage does), and the product is started with the
// image's ENTRYPOINT, CMD and ENV — plus what `docker run -e … -v …` would add (ports, the
// first admin's password, the data volume) — then serves its console and an agent's tool call,
// passes the image's HEALTHCHECK command, and stops with exit code 0 on SIGTERM through tini.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort } from '../support/gateway.js';
import { ROOT, defineWeather, ensureConsoleBuilt, ensureTini, imageAppTree, imageRuntime, inImage, login, parseDockerfile, startChild } from './support.js';
import type { Child } from './support.js';

const stages = parseDockerfile(join(ROOT, 'deploy', 'Dockerfile'));
const runtime = imageRuntime(stages);

describe('deploy/Dockerfile', () => {
  it('builds in stages, runs as a non-root user under tini with a health check, and fetches nothing at run time', () => {
    assert.ok(stages.length >= 2, 'a build stage and a runtime stage');
    const build = stages.find((s) => s.name === 'build');
    assert.ok(build, 'a stage named build');
    const runs = build.instructions.filter((i) => i.op === 'RUN').map((i) => i.args).join('\n');
    assert.match(runs, /npm ci/);
    assert.match(runs, /npm run build/, 'the CLI and the console are built in the image');
    assert.match(runs, /npm prune --omit=dev/);
    assert.match(runtime.from, /^node:24[-.\w]*-slim$/, 'a Node 24 (active LTS) slim runtime');
    assert.match(runtime.user, /^[1-9]\d*:[1-9]\d*$/, 'a numeric non-root user and group (runAsNonRoot can check it)');
    assert.equal(runtime.entrypoint[0], '/usr/bin/tini');
    assert.equal(runtime.entrypoint[1], '--');
    assert.deepEqual(runtime.entrypoint.slice(2), ['node', '/app/bin/mcpgate.js']);
    assert.deepEqual(runtime.cmd, ['serve']);
    assert.equal(runtime.env.MCPGATE_HOST, '0.0.0.0');
    assert.equal(runtime.env.MCPGATE_DATA_DIR, '/data');
    assert.deepEqual(runtime.expose.sort(), ['8080', '8848', '9848']);
    assert.deepEqual(runtime.healthcheck, ['node', '/app/deploy/healthcheck.mjs']);
    assert.ok(runtime.copies.some((c) => c.fromStage === 'build' && c.source === '/app/src/console/dist'), 'the prebuilt console is copied');
    // Nothing in the runtime's start reaches a network: no package manager, no download.
    for (const word of [...runtime.entrypoint, ...runtime.cmd, ...runtime.healthcheck]) assert.doesNotMatch(word, /^(npm|npx|curl|wget|apt-get)$/);
    const runtimeRuns = (stages.at(-1)?.instructions ?? []).filter((i) => i.op === 'RUN').map((i) => i.args).join('\n');
    assert.doesNotMatch(runtimeRuns, /\bnpm\b/, 'the runtime stage installs no npm package');
  });

  describe('started as the image starts it', () => {
    let tini: string | undefined;
    let child: Child | undefined;
    let backend: Server | undefined;
    let dataDir = '';
    const password = 'image-test-password';
    const ports = { registry: 0, gateway: 0 };
    let env: Record<string, string> = {};
    const skip = ensureTini();

    before(async () => {
      if (skip) return;
      tini = spawnSync('sh', ['-c', 'command -v tini'], { encoding: 'utf8' }).stdout.trim();
      ensureConsoleBuilt();
      const app = imageAppTree(runtime);
      dataDir = mkdtempSync(join(tmpdir(), 'mcpgate-image-data-'));
      ports.registry = await freePort();
      ports.gateway = await freePort();
      backend = createServer((req, res) => {
        const city = new URL(req.url ?? '/', 'http://x').searchParams.get('city');
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ city, sky: 'clear' }));
      });
      await new Promise<void>((resolve) => backend?.listen(0, '127.0.0.1', () => resolve()));
      // docker run -e MCPGATE_REGISTRY_PORT=… -e MCPGATE_GATEWAY_PORT=… -e MCPGATE_ADMIN_PASSWORD=… -v data:/data mcpgate
      env = {
        ...runtime.env, MCPGATE_DATA_DIR: dataDir,
        MCPGATE_REGISTRY_PORT: String(ports.registry), MCPGATE_GATEWAY_PORT: String(ports.gateway), MCPGATE_ADMIN_PASSWORD: password,
      };
      const command = [...runtime.entrypoint, ...runtime.cmd].map((part) => (part === '/usr/bin/tini' ? tini as string : inImage(app, part)));
      child = await startChild(command, env, `http://127.0.0.1:${ports.gateway}/readyz`, { cwd: inImage(app, runtime.workdir) });
    });
    after(async () => {
      await child?.stop('SIGKILL');
      await new Promise<void>((resolve) => (backend ? backend.close(() => resolve()) : resolve()));
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it('serves the prebuilt console and an agent\'s tool call, keeps its state in the data volume, and passes its HEALTHCHECK', { skip }, async () => {
      const registry = `http://127.0.0.1:${ports.registry}`;
      const page = await fetch(`${registry}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<script[^>]+src="\/assets\//, 'the built console, not the "not built" page');
      const token = await login(registry, 'admin', password);
      await defineWeather(registry, token, (backend?.address() as { port: number }).port);
      const client = new Client({ name: 'image-test', version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${ports.gateway}/mcp/public/weather`));
      await client.connect(transport);
      try {
        const result = await client.callTool({ name: 'get_weather', arguments: { city: 'Oslo' } });
        assert.deepEqual(result.content, [{ type: 'text', text: 'Oslo: clear' }]);
      } finally {
        await client.close();
      }
      assert.ok(existsSync(join(dataDir, 'mcpgate.db')), `the database is in the data volume: ${readdirSync(dataDir).join(', ')}`);
      const health = spawnSync(runtime.healthcheck[0] === 'node' ? process.execPath : runtime.healthcheck[0] as string, runtime.healthcheck.slice(1).map((p) => inImage(imageAppTree(runtime), p)), { env: { ...process.env, ...env }, encoding: 'utf8' });
      assert.equal(health.status, 0, health.stderr);
    });

    it('exits 0 on SIGTERM (tini forwards it; the process drains and stops)', { skip }, async () => {
      assert.ok(child);
      assert.equal(await child.stop('SIGTERM'), 0, child.output());
      const health = spawnSync(process.execPath, [join(ROOT, 'deploy', 'healthcheck.mjs')], { env: { ...process.env, ...env }, encoding: 'utf8' });
      assert.equal(health.status, 1, 'the HEALTHCHECK fails once nothing answers');
    });
  });
});
