import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from './main.js';

/** Run the CLI in process; answers its exit code and what it wrote to stderr. */
async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  const write = process.stderr.write.bind(process.stderr);
  let stderr = '';
  process.stderr.write = ((chunk: string | Uint8Array) => { stderr += String(chunk); return true; }) as typeof process.stderr.write;
  try {
    return { code: await main(args), stderr };
  } finally {
    process.stderr.write = write;
  }
}

describe('mcpgate gateway --config / --definitions', () => {
  it('refuses Higress definitions given to --config, naming --definitions (a directory or a definition file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpgate-cli-'));
    writeFileSync(join(dir, 'weather.yaml'), 'server:\n  name: weather\ntools: []\n');
    for (const path of [dir, join(dir, 'weather.yaml')]) {
      const r = await cli(['gateway', '--config', path]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, new RegExp(`holds Higress server definitions, not an mcpgate configuration file: serve them with --definitions ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    }
  });

  it('reads --config as an mcpgate configuration file (its errors are about options)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpgate-cli-'));
    writeFileSync(join(dir, 'mcpgate.yaml'), 'gatewayPrt: 1\n');
    const r = await cli(['gateway', '--config', join(dir, 'mcpgate.yaml')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown option 'gatewayPrt'/);
  });
});
