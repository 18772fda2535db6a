// The test files themselves. Under a forced exit (`--test-force-exit`, which the runner passed
// until scripts/lib/run-test-files.mjs replaced it) a file ends once the tests registered so far
// have finished: a describe/it registered after a top-level await that follows an earlier one may
// come too late, and its tests are then silently not run (this happened: 147 tests of two files).
// So every top-level await of a test file comes before its first describe, it or test.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

function testFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) testFiles(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

/** Whether `node` holds a call of describe/it/test or an await, outside any function. */
function holds(node: ts.Node, what: 'registration' | 'await'): boolean {
  let found = false;
  const visit = (n: ts.Node): void => {
    if (found || ts.isFunctionLike(n)) return;
    if (what === 'await' && (ts.isAwaitExpression(n) || (ts.isForOfStatement(n) && n.awaitModifier))) found = true;
    if (what === 'registration' && ts.isCallExpression(n)) {
      const callee = ts.isPropertyAccessExpression(n.expression) ? n.expression.expression : n.expression;
      if (ts.isIdentifier(callee) && ['describe', 'it', 'test'].includes(callee.text)) found = true;
    }
    ts.forEachChild(n, visit);
  };
  visit(node);
  return found;
}

/** Top-level statements with an await after the first registration of a test, as `file:line`. */
export function lateAwaits(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const late: string[] = [];
  let registered = false;
  for (const statement of source.statements) {
    if (registered && holds(statement, 'await')) late.push(`${file}:${source.getLineAndCharacterOfPosition(statement.getStart()).line + 1}`);
    if (holds(statement, 'registration')) registered = true;
  }
  return late;
}

describe('test files', () => {
  const files = [...testFiles('src'), ...testFiles('test')];

  it('are found (the check would pass vacuously on nothing)', () => {
    assert.ok(files.length > 100, `${files.length} test files`);
  });

  it('await at top level only before their first describe, it or test', () => {
    assert.deepEqual(files.flatMap((f) => lateAwaits(f, readFileSync(f, 'utf8'))), []);
  });

  it('the check sees an await after a describe, in a loop header too, and not one inside a function', () => {
    assert.deepEqual(lateAwaits('a.test.ts', 'const k = await f();\ndescribe("x", () => {});\n'), []);
    assert.deepEqual(lateAwaits('b.test.ts', 'describe("x", async () => { await g(); });\nfor (const k of await f()) describe(k, () => {});\n'), ['b.test.ts:2']);
    assert.deepEqual(lateAwaits('c.test.ts', 'it("x", () => {});\nconst v = await f();\n'), ['c.test.ts:2']);
  });
});
