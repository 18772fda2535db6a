/**
 * nginx as a reverse proxy peer: installed from Debian with apt-get when missing, run in the
 * foreground (`daemon off`) as a child of the benchmark with its own configuration and
 * temporary directories, listening on a loopback port, with upstream keep-alive.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProcess } from '../support/procs.js';

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Make sure `nginx` is on the PATH: `apt-get update` then install Debian's nginx-light (or nginx). */
export function ensureNginx(log: (s: string) => void): void {
  if (which('nginx')) return;
  log('nginx is missing: apt-get update && apt-get install nginx-light');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env, timeout: 300_000 });
  for (const pkg of ['nginx-light', 'nginx']) {
    const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', pkg], { stdio: 'inherit', env, timeout: 300_000 });
    if (r.status === 0 && which('nginx')) return;
  }
  throw new Error('could not install nginx with apt-get');
}

/** The nginx version line. */
export function nginxVersion(): string {
  const r = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
  return (r.stderr || r.stdout).trim().replace(/^nginx version:\s*(nginx\/)?/, '');
}

/** Start nginx proxying `127.0.0.1:port` to the backend; `dir` holds its configuration and state. */
export async function startNginx(o: { dir: string; port: number; backendPort: number; workers: number | 'auto' }): Promise<ChildProcess> {
  const prefix = o.dir;
  for (const d of ['', 'logs', 'tmp/body', 'tmp/proxy', 'tmp/fastcgi', 'tmp/uwsgi', 'tmp/scgi']) mkdirSync(join(prefix, d), { recursive: true });
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(conf, `# written by bench/gateway/gateway.bench.ts
daemon off;
master_process on;
worker_processes ${o.workers};
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'logs/error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(prefix, 'tmp/body')};
  proxy_temp_path ${join(prefix, 'tmp/proxy')};
  fastcgi_temp_path ${join(prefix, 'tmp/fastcgi')};
  uwsgi_temp_path ${join(prefix, 'tmp/uwsgi')};
  scgi_temp_path ${join(prefix, 'tmp/scgi')};
  keepalive_requests 1000000;
  upstream backend {
    server 127.0.0.1:${o.backendPort};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${o.port};
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`);
  return startProcess('nginx', ['-p', prefix, '-e', join(prefix, 'logs/error.log'), '-c', conf], `http://127.0.0.1:${o.port}/item`);
}
