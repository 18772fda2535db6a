// Higress's public catalogue (plugins/wasm-go/mcp-servers in alibaba/higress) through
// scripts/check-higress-catalogue.ts, when a snapshot of that repository is at hand: set
// MCPGATE_HIGRESS_REPO to a checkout or a bare repository of it. The catalogue is not part of
// this repository (and CI has no network), so without it the test is skipped; the constructs
// it uses are covered by our own fixtures in higress-compat.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'node:test';

const repo = process.env.MCPGATE_HIGRESS_REPO;

test('every public Higress definition loads and lists all its tools', { skip: repo ? false : 'MCPGATE_HIGRESS_REPO is not set', timeout: 300_000 }, () => {
  const root = resolve(import.meta.dirname, '..');
  const r = spawnSync(process.execPath, ['--import', 'tsx', resolve(root, 'scripts/check-higress-catalogue.ts'), repo as string], { cwd: root, encoding: 'utf8' });
  const summary = /(\d+) of (\d+) definitions load and list all their tools \((\d+) tools\)/.exec(r.stdout);
  assert.ok(summary, `${r.stdout}\n${r.stderr}`);
  assert.equal(r.status, 0, r.stdout);
  assert.equal(summary[1], summary[2]);
  assert.ok(Number(summary[2]) >= 50, `only ${summary[2]} definitions found`);
});
