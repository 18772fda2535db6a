/**
 * Tool search stands alone: its files import only each other and Node's own modules, so that it
 * can be used (and benchmarked) without the rest of mcpgate and moved without dragging anything.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';

const here = import.meta.dirname;

it('imports nothing outside src/tools/search but node: modules', () => {
  for (const name of readdirSync(here).filter((f) => f.endsWith('.ts'))) {
    for (const { fileName } of ts.preProcessFile(readFileSync(join(here, name), 'utf8'), true, true).importedFiles) {
      if (fileName.startsWith('node:')) continue;
      if (name.endsWith('.test.ts') && fileName === 'typescript') continue;
      assert.ok(fileName.startsWith('./'), `${name} imports ${fileName}`);
      assert.equal(dirname(resolve(here, fileName)), here, `${name} imports ${fileName}`);
    }
  }
});
