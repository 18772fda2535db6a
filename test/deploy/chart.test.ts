// The plain manifests rendered from the Helm chart (deploy/k8s/mcpgate.yaml), run on this
// machine as the cluster would run them: every process is started with its container's command
// (the image's ENTRYPOINT, deploy/Dockerfile, with the container's args), the image's ENV, the
// container's environment (ConfigMaps resolved from the manifests) and its secret files (the
// projected Secret volumes, written with the values an operator would put in the Secrets).
// What differs is what a pod has of its own: its address and ports (free loopback ports here),
// the Service names (the replicas' URLs), and the paths of its volumes (temporary folders).
// Two registries on one PostgreSQL database and two gateways on one Redis then serve an agent's
// tool call, a session opened on one gateway continues on the other, every probe of the
// manifests answers 200, and the gateways' readiness fails while Redis is down.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { databaseKinds } from '../support/databases.js';
import type { TestDatabase } from '../support/databases.js';
import { firstText, freePort, legacyPost, legacySession, waitFor } from '../support/gateway.js';
import { privateRedisUnavailable, startPrivateRedis } from '../support/redis.js';
import type { PrivateRedis } from '../support/redis.js';
import {
  ROOT, containerRun, defineWeather, ensureConsoleBuilt, ensureTini, imageAppTree, imageRuntime, inImage, loadManifests, login, parseDockerfile,
  startChild, writeSecretFiles,
} from './support.js';
import type { Child, ContainerRun } from './support.js';

const runtime = imageRuntime(parseDockerfile(join(ROOT, 'deploy', 'Dockerfile')));
const objects = loadManifests(join(ROOT, 'deploy', 'k8s', 'mcpgate.yaml'));

interface Pod { name: string; run: ContainerRun; port: number; url: string; child?: Child }

describe('deploy/k8s/mcpgate.yaml run as the cluster runs it', async () => {
  const kinds = await databaseKinds();
  const postgres = kinds.find((k) => k.kind === 'postgres');
  const skip = ensureTini() ?? privateRedisUnavailable() ?? postgres?.unavailable;
  let db: TestDatabase | undefined;
  let redis: PrivateRedis | undefined;
  let backend: Server | undefined;
  let work = '';
  const pods: Pod[] = [];
  const adminPassword = randomBytes(12).toString('hex');
  const secrets: Record<string, Record<string, string>> = {};

  before(async () => {
    if (skip) return;
    ensureConsoleBuilt();
    const app = imageAppTree(runtime);
    const tini = spawnSync('sh', ['-c', 'command -v tini'], { encoding: 'utf8' }).stdout.trim();
    db = await (postgres as NonNullable<typeof postgres>).create();
    redis = await startPrivateRedis();
    work = mkdtempSync(join(tmpdir(), 'mcpgate-chart-'));
    backend = createServer((req, res) => {
      const city = new URL(req.url ?? '/', 'http://x').searchParams.get('city');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ city, sky: 'clear' }));
    });
    await new Promise<void>((resolve) => backend?.listen(0, '127.0.0.1', () => resolve()));
    // The Secrets the operator creates (docs/deploy.md).
    secrets['mcpgate-auth'] = { 'admin-password': adminPassword, 'gateway-token': `mgt_${randomBytes(24).toString('hex')}`, 'session-key': randomBytes(24).toString('hex') };
    secrets['mcpgate-db'] = { 'db-url': db.url };
    secrets['mcpgate-redis'] = { 'redis-url': redis.url };
    for (const [deployment, replicas] of [['mcpgate-registry', 2], ['mcpgate-gateway', 2]] as const) {
      for (let i = 1; i <= replicas; i++) {
        const port = await freePort();
        pods.push({ name: `${deployment}-${i}`, run: containerRun(objects, deployment, secrets), port, url: `http://127.0.0.1:${port}` });
      }
    }
    const registries = pods.filter((p) => p.name.startsWith('mcpgate-registry'));
    // A Service name → the URLs of the pods it selects (the cluster's DNS and kube-proxy).
    const serviceUrls = (value: string) => value.replace(/http:\/\/mcpgate-registry:\d+/g, registries.map((r) => r.url).join(','));
    for (const pod of pods) {
      const dir = join(work, pod.name);
      mkdirSync(join(dir, 'data'), { recursive: true });
      const mounts = writeSecretFiles(pod.run, dir, secrets);
      const env: Record<string, string> = { ...runtime.env };
      for (const [k, v] of Object.entries(pod.run.env)) {
        let value = serviceUrls(v);
        for (const [mountPath, folder] of Object.entries(mounts)) if (value.startsWith(`${mountPath}/`)) value = folder + value.slice(mountPath.length);
        env[k] = value;
      }
      env.MCPGATE_DATA_DIR = join(dir, 'data');
      const role = pod.run.args[0];
      if (role === 'registry') env.MCPGATE_REGISTRY_PORT = String(pod.port);
      else env.MCPGATE_GATEWAY_PORT = String(pod.port);
      const command = [...runtime.entrypoint.map((p) => (p === '/usr/bin/tini' ? tini : inImage(app, p))), ...pod.run.args];
      pod.child = await startChild(command, env, `${pod.url}/readyz`, { cwd: inImage(app, runtime.workdir) });
    }
  });
  after(async () => {
    for (const pod of pods) await pod.child?.stop('SIGKILL');
    await redis?.stop();
    await db?.drop();
    await new Promise<void>((resolve) => (backend ? backend.close(() => resolve()) : resolve()));
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('keeps secrets out of the environment: every secret is a mounted file (MCPGATE_*_FILE)', { skip }, () => {
    for (const name of ['mcpgate-registry', 'mcpgate-gateway']) {
      const run = containerRun(objects, name, secrets);
      for (const [k, v] of Object.entries(run.env)) {
        for (const values of Object.values(secrets)) for (const secret of Object.values(values)) assert.ok(!v.includes(secret), `${name}: ${k} holds a secret`);
      }
      assert.ok(Object.keys(run.env).some((k) => k.endsWith('_FILE')), `${name} reads its secrets from files`);
    }
  });

  it('serves an agent\'s tool call through either gateway, a session continuing across them, on two registries sharing one database', { skip }, async () => {
    const [registry1, registry2, gateway1, gateway2] = pods as [Pod, Pod, Pod, Pod];
    const token = await login(registry2.url, 'admin', adminPassword);
    await defineWeather(registry1.url, token, (backend?.address() as { port: number }).port);
    const endpoint = (g: Pod) => `${g.url}/mcp/public/weather`;
    for (const g of [gateway1, gateway2]) {
      await waitFor(`the weather server on ${g.name}`, async () => (await fetch(endpoint(g), { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' })).status !== 404, 15_000);
    }
    const client = new Client({ name: 'chart-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(endpoint(gateway1))));
    try {
      const result = await client.callTool({ name: 'get_weather', arguments: { city: 'Oslo' } });
      assert.deepEqual(result.content, [{ type: 'text', text: 'Oslo: clear' }]);
    } finally {
      await client.close();
    }
    // No stickiness: a session opened on one replica is served by the other (Redis).
    const session = await legacySession(endpoint(gateway1));
    const call = await legacyPost(endpoint(gateway2), session, 2, 'tools/call', { name: 'get_weather', arguments: { city: 'Bergen' } });
    assert.equal(call.status, 200, call.text);
    assert.equal(firstText(call.body.result), 'Bergen: clear');
  });

  it('answers 200 to every probe of the manifests', { skip }, async () => {
    for (const pod of pods) {
      const c = pod.run.container;
      for (const probe of [c.readinessProbe, c.livenessProbe]) {
        assert.ok(probe?.httpGet, `${pod.name} has HTTP probes`);
        const r = await fetch(`${pod.url}${probe.httpGet.path}`);
        assert.equal(r.status, 200, `${pod.name} ${probe.httpGet.path}`);
      }
    }
  });

  it('takes the gateways out of the load balancer while Redis is down, and back when it answers', { skip }, async () => {
    const gateways = pods.filter((p) => p.run.args[0] === 'gateway');
    await redis?.kill();
    for (const g of gateways) {
      const down = await waitFor(`${g.name} unready`, async () => {
        const r = await fetch(`${g.url}/readyz`);
        return r.status === 503 ? await r.json() as { checks: Record<string, boolean> } : undefined;
      }, 15_000, 100);
      assert.equal(down.checks.redis, false);
      assert.equal(down.checks.registry, true);
    }
    await redis?.start();
    for (const g of gateways) await waitFor(`${g.name} ready again`, async () => (await fetch(`${g.url}/readyz`)).status === 200, 15_000, 100);
  });

  it('stops every process with exit code 0 on SIGTERM', { skip }, async () => {
    for (const pod of [...pods].reverse()) {
      assert.equal(await pod.child?.stop('SIGTERM'), 0, `${pod.name}:\n${pod.child?.output()}`);
    }
  });
});

