/**
 * What the deployment tests share: the Dockerfile read as Docker reads it (the runtime stage's
 * ENV, USER, ENTRYPOINT, CMD, HEALTHCHECK, COPY), the image's /app laid out on this machine from
 * those COPY lines (with dist/ compiled fresh, as the build stage does), the rendered Kubernetes
 * manifests with each container's command, arguments, environment and mounted secret files, and
 * child processes started from them.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { requireServices } from '../support/databases.js';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// ------------------------------------------------------------------------------ Dockerfile

/** One stage of a Dockerfile, its instructions as Docker reads them. */
export interface DockerStage {
  from: string;
  name?: string;
  /** Instruction name (upper case) and its argument text, continuation lines joined. */
  instructions: { op: string; args: string }[];
}

/** The Dockerfile's stages (comments dropped, `\` continuations joined, global ARG defaults substituted in FROM). */
export function parseDockerfile(path: string): DockerStage[] {
  const text = readFileSync(path, 'utf8').replace(/\\\r?\n/g, ' ');
  const args = new Map<string, string>();
  const stages: DockerStage[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const op = (m[1] as string).toUpperCase();
    const rest = (m[2] as string).replace(/\s+/g, ' ').trim();
    if (op === 'ARG' && stages.length === 0) {
      const [k, v = ''] = rest.split('=');
      args.set(k as string, v);
      continue;
    }
    if (op === 'FROM') {
      const [image = '', as, name] = rest.replace(/\$\{(\w+)\}/g, (_, k: string) => args.get(k) ?? '').split(' ');
      stages.push({ from: image, ...(as?.toUpperCase() === 'AS' && name ? { name } : {}), instructions: [] });
      continue;
    }
    stages.at(-1)?.instructions.push({ op, args: rest });
  }
  return stages;
}

/** The runtime (last) stage, summarised: what a container of the image starts with. */
export interface ImageRuntime {
  from: string;
  user: string;
  workdir: string;
  env: Record<string, string>;
  entrypoint: string[];
  cmd: string[];
  healthcheck: string[];
  /** COPY instructions: source (a build-stage path when `fromStage`, else a context path) → destination. */
  copies: { fromStage?: string; source: string; destination: string }[];
  expose: string[];
}

export function imageRuntime(stages: DockerStage[]): ImageRuntime {
  const last = stages.at(-1);
  if (!last) throw new Error('the Dockerfile has no stage');
  const out: ImageRuntime = { from: last.from, user: 'root', workdir: '/', env: {}, entrypoint: [], cmd: [], healthcheck: [], copies: [], expose: [] };
  for (const { op, args } of last.instructions) {
    if (op === 'USER') out.user = args;
    else if (op === 'WORKDIR') out.workdir = args;
    else if (op === 'ENTRYPOINT') out.entrypoint = JSON.parse(args) as string[];
    else if (op === 'CMD') out.cmd = JSON.parse(args) as string[];
    else if (op === 'EXPOSE') out.expose.push(...args.split(' '));
    else if (op === 'HEALTHCHECK') out.healthcheck = JSON.parse(args.slice(args.indexOf('CMD ') + 4)) as string[];
    else if (op === 'ENV') {
      for (const m of args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) out.env[m[1] as string] = (m[2] as string).replace(/^"|"$/g, '');
    } else if (op === 'COPY') {
      const parts = args.split(' ');
      const from = parts.find((p) => p.startsWith('--from='))?.slice(7);
      const paths = parts.filter((p) => !p.startsWith('--'));
      const destination = paths.pop() as string;
      for (const source of paths) out.copies.push({ ...(from ? { fromStage: from } : {}), source, destination });
    }
  }
  return out;
}

// ------------------------------------------------------------------------------ the image's /app here

let tree: string | undefined;

/**
 * The image's /app, laid out in a temporary directory by the runtime stage's COPY lines: what
 * the build stage makes (`dist/`) is compiled fresh from src/ with tsconfig.build.json, as
 * `npm run build` does there; the rest (package.json, bin/, node_modules, the built console,
 * the health check, docs) is copied from this checkout (node_modules linked). Built once per process.
 */
export function imageAppTree(runtime: ImageRuntime): string {
  if (tree) return tree;
  const base = mkdtempSync(join(tmpdir(), 'mcpgate-image-'));
  process.once('exit', () => rmSync(base, { recursive: true, force: true }));
  const app = join(base, 'app');
  mkdirSync(app, { recursive: true });
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(app, 'dist')], { cwd: ROOT, encoding: 'utf8' });
  if (tsc.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed:\n${tsc.stdout}${tsc.stderr}`);
  for (const c of runtime.copies) {
    if (!c.destination.startsWith('/app/') && c.destination !== '/app/') throw new Error(`COPY to ${c.destination}: outside /app`);
    const relative = c.fromStage ? c.source.replace(/^\/app\//, '') : c.source;
    const target = join(app, c.destination.replace(/^\/app\/?/, '') || '.');
    if (relative === 'dist') continue;
    const source = join(ROOT, relative);
    if (!existsSync(source)) throw new Error(`COPY ${c.source}: ${relative} does not exist in the checkout (the build stage would not have it)`);
    const into = c.destination.endsWith('/') ? join(target, relative.split('/').pop() as string) : target;
    mkdirSync(dirname(into), { recursive: true });
    // node_modules is linked (big); the rest is copied, so that paths resolved from a file's own
    // location (bin/mcpgate.js → ../dist) stay inside the tree, as in the image.
    if (existsSync(into)) continue;
    if (relative === 'node_modules') symlinkSync(source, into);
    else cpSync(source, into, { recursive: true });
  }
  tree = app;
  return app;
}

/** Map a path inside the image (`/app/...`) to the laid-out tree. */
export function inImage(app: string, path: string): string {
  return path === '/app' || path.startsWith('/app/') ? join(app, path.slice(5)) : path;
}

/** `tini` on this machine (installed with apt-get when missing); the reason when it cannot be. */
export function ensureTini(): string | undefined {
  const which = () => spawnSync('sh', ['-c', 'command -v tini'], { encoding: 'utf8' }).stdout.trim();
  if (which()) return undefined;
  if (spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'tini'], { stdio: 'ignore', env, timeout: 300_000 });
    if (!which()) {
      spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env, timeout: 300_000 });
      spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'tini'], { stdio: 'ignore', env, timeout: 300_000 });
    }
    if (which()) return undefined;
  }
  const reason = 'tini is not installed and apt-get could not install it';
  if (requireServices) throw new Error(`MCPGATE_TEST_REQUIRE_SERVICES=1 but ${reason}`);
  return reason;
}

/** The console must be built for the image (the build stage runs `npm run build`). */
export function ensureConsoleBuilt(): void {
  if (existsSync(join(ROOT, 'src', 'console', 'dist', 'index.html'))) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(ROOT, 'src', 'console', 'vite.config.mjs')], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the console failed:\n${r.stdout}${r.stderr}`);
}

// ------------------------------------------------------------------------------ manifests

/** A Kubernetes object as rendered. */
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; [k: string]: unknown };

/** Every object of a multi-document YAML file. */
export function loadManifests(path: string): K8sObject[] {
  return parseAllDocuments(readFileSync(path, 'utf8')).map((d) => d.toJS() as K8sObject | null).filter((o): o is K8sObject => !!o);
}

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  volumeMounts?: { name: string; mountPath: string }[];
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  ports?: { name?: string; containerPort: number }[];
}

/** What a container of a Deployment runs with: its arguments, environment and secret files. */
export interface ContainerRun {
  container: Container;
  args: string[];
  env: Record<string, string>;
  /** Mounted files: mount path → file name → the Secret and key it comes from. */
  secretFiles: Record<string, Record<string, { secret: string; key: string }>>;
}

/**
 * The first container of Deployment `name`: `args`, the environment with every `envFrom`
 * ConfigMap and `valueFrom` reference resolved from the same manifests (a Secret the operator
 * creates is resolved with `secrets`), and the files of its projected/secret volumes.
 */
export function containerRun(objects: K8sObject[], name: string, secrets: Record<string, Record<string, string>>): ContainerRun {
  const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name) as (K8sObject & { spec: { template: { spec: { containers: Container[]; volumes?: Record<string, unknown>[] } } } }) | undefined;
  if (!deployment) throw new Error(`no Deployment ${name} in the manifests`);
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0] as Container;
  const configMap = (cm: string) => {
    const o = objects.find((x) => x.kind === 'ConfigMap' && x.metadata.name === cm) as (K8sObject & { data?: Record<string, string> }) | undefined;
    if (!o) throw new Error(`${name} reads ConfigMap ${cm}, which the manifests do not hold`);
    return o.data ?? {};
  };
  const secretValue = (s: string, key: string) => {
    const inline = objects.find((x) => x.kind === 'Secret' && x.metadata.name === s) as (K8sObject & { data?: Record<string, string>; stringData?: Record<string, string> }) | undefined;
    const value = secrets[s]?.[key] ?? inline?.stringData?.[key] ?? (inline?.data?.[key] !== undefined ? Buffer.from(inline.data[key] as string, 'base64').toString('utf8') : undefined);
    if (value === undefined) throw new Error(`${name} reads key ${key} of Secret ${s}: not given`);
    return value;
  };
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, configMap(from.configMapRef.name));
    if (from.secretRef) throw new Error('envFrom secretRef puts secrets in the environment: mount them as files');
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.configMapKeyRef) env[e.name] = configMap(e.valueFrom.configMapKeyRef.name)[e.valueFrom.configMapKeyRef.key] ?? '';
    else if (e.valueFrom?.secretKeyRef) env[e.name] = secretValue(e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.key);
  }
  const secretFiles: ContainerRun['secretFiles'] = {};
  for (const mount of container.volumeMounts ?? []) {
    const volume = (pod.volumes ?? []).find((v) => v.name === mount.name) as { projected?: { sources: { secret?: { name: string; items?: { key: string; path: string }[] } }[] }; secret?: { secretName: string; items?: { key: string; path: string }[] } } | undefined;
    const sources = volume?.projected?.sources.map((s) => s.secret).filter((s): s is NonNullable<typeof s> => !!s)
      ?? (volume?.secret ? [{ name: volume.secret.secretName, items: volume.secret.items }] : []);
    if (sources.length === 0) continue;
    const files: Record<string, { secret: string; key: string }> = {};
    for (const s of sources) for (const item of s.items ?? []) files[item.path] = { secret: s.name, key: item.key };
    secretFiles[mount.mountPath] = files;
  }
  return { container, args: container.args ?? [], env, secretFiles };
}

/** Write a container's secret files under `dir` (one folder per mount); answers mount path → folder. */
export function writeSecretFiles(run: ContainerRun, dir: string, secrets: Record<string, Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [mountPath, files] of Object.entries(run.secretFiles)) {
    const folder = join(dir, mountPath.replace(/[^A-Za-z0-9]+/g, '_'));
    mkdirSync(folder, { recursive: true });
    for (const [file, ref] of Object.entries(files)) {
      const value = secrets[ref.secret]?.[ref.key];
      if (value === undefined) throw new Error(`Secret ${ref.secret} key ${ref.key} (mounted at ${mountPath}/${file}) not given`);
      // As Kubernetes writes them: the value, no line break added.
      writeFileSync(join(folder, file), value, { mode: 0o440 });
    }
    out[mountPath] = folder;
  }
  return out;
}

// ------------------------------------------------------------------------------ processes

/** A child process of a test, its output kept for failure messages. */
export interface Child {
  readonly process: ChildProcess;
  output(): string;
  /** Send a signal and wait for the exit; answers the exit code (or the signal's name). */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

const children = new Set<ChildProcess>();
process.once('exit', () => { for (const c of children) c.kill('SIGKILL'); });

/** Start `command` with exactly `env` (plus PATH and HOME of this machine) and wait until `readyUrl` answers 200. */
export async function startChild(command: string[], env: Record<string, string>, readyUrl: string, opts: { cwd: string; timeoutMs?: number }): Promise<Child> {
  const [cmd, ...args] = command as [string, ...string[]];
  const p = spawn(cmd, args, { cwd: opts.cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(p);
  let out = '';
  const keep = (b: Buffer) => { out = (out + b.toString('utf8')).slice(-40_000); };
  p.stdout.on('data', keep);
  p.stderr.on('data', keep);
  const exited = new Promise<number | string>((resolve) => p.once('exit', (code, signal) => { children.delete(p); resolve(code ?? signal ?? -1); }));
  const child: Child = {
    process: p,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (p.exitCode === null && p.signalCode === null) p.kill(signal);
      return exited;
    },
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (p.exitCode !== null || p.signalCode !== null) throw new Error(`${command.join(' ')} exited at start (${p.exitCode ?? p.signalCode}):\n${out}`);
    const ok = await fetch(readyUrl, { signal: AbortSignal.timeout(2000) }).then((r) => { void r.body?.cancel(); return r.status === 200; }, () => false);
    if (ok) return child;
    if (Date.now() > deadline) {
      await child.stop('SIGKILL');
      throw new Error(`${command.join(' ')} was not ready at ${readyUrl}:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}


// ------------------------------------------------------------------------------ an agent call

/** Log in to a registry; answers the access token. */
export async function login(registryUrl: string, username: string, password: string): Promise<string> {
  const r = await fetch(`${registryUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  const body = await r.json() as { accessToken?: string };
  if (r.status !== 200 || !body.accessToken) throw new Error(`login as ${username} failed: HTTP ${r.status} ${JSON.stringify(body)}`);
  return body.accessToken;
}

/** Define and publish `weather` (tool `get_weather` → GET {backend}/weather?city=…) in `public`. */
export async function defineWeather(registryUrl: string, token: string, backendPort: number): Promise<void> {
  const body = {
    name: 'weather', protocol: 'http', publish: true, endpoint: { type: 'direct', address: '127.0.0.1', port: backendPort },
    spec: {
      version: '1.0.0', description: 'weather',
      tools: [{
        name: 'get_weather', description: 'Weather by city', enabled: true,
        inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        template: {
          request: { url: '/weather', method: 'GET', headers: [], argsToUrlParam: true, argsToJsonBody: false, argsToFormBody: false },
          response: { body: '{{ .city }}: {{ .sky }}' }, argsPosition: {},
        },
      }],
    },
  };
  const r = await fetch(`${registryUrl}/api/v1/namespaces/public/mcp-servers`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  if (r.status !== 201) throw new Error(`creating the weather server: HTTP ${r.status} ${await r.text()}`);
}
