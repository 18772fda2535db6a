// Installs the MCP conformance suite (npm package @modelcontextprotocol/conformance) into
// .tools/conformance, with Node 24 (scripts/node24.mjs) first on the PATH, for
// test/security/gateway-conformance.test.ts. Kept out of package.json like Node 24: it is a
// test tool with its own dependency tree (an SDK, express) that the project does not use.
// Prints the path of its CLI entry.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const VERSION = '0.1.16';
const root = resolve(import.meta.dirname, '..');
const prefix = join(root, '.tools', 'conformance');
const pkgDir = join(prefix, 'node_modules', '@modelcontextprotocol', 'conformance');
const node24 = execFileSync(process.execPath, [join(root, 'scripts', 'node24.mjs')], { encoding: 'utf8' }).trim();

const installed = existsSync(join(pkgDir, 'package.json')) ? JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version : undefined;
if (installed !== VERSION) {
  execFileSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `@modelcontextprotocol/conformance@${VERSION}`], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, PATH: `${dirname(node24)}:${process.env.PATH ?? ''}` },
  });
}
console.log(join(pkgDir, 'dist', 'index.js'));
