/**
 * The architecture, checked on every file under src/ (tests, the console's pages and hooks
 * included): no import cycles; the registry and the gateway never import each other; the
 * template engine imports nothing outside itself and is imported only through its entry point;
 * the layers below import nothing above them (model and lib: nothing of the roles or the tools;
 * tools: neither role); the console, a separate program, shares only the model's types. Imports are read with TypeScript's own pre-processor, so type-only
 * imports, re-exports and dynamic imports count too.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

const root = resolve(import.meta.dirname, '..');
const src = join(root, 'src');

/** A file's imports: `files` resolved inside the repository, `packages` by their specifier. */
interface Imports {
  files: string[];
  packages: string[];
}

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (/\.(ts|tsx|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Where a relative specifier points: `./x.js` is `./x.ts` or `./x.tsx`, a folder its index. */
function resolveSpecifier(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  const stem = base.replace(/\.(js|jsx|mjs)$/, '');
  for (const candidate of [base, `${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, join(base, 'index.ts'), join(base, 'index.tsx')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

function importsOf(file: string): Imports {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const out: Imports = { files: [], packages: [] };
  for (const { fileName } of info.importedFiles) {
    if (fileName.startsWith('.')) {
      const target = resolveSpecifier(file, fileName);
      assert.ok(target, `${rel(file)} imports ${fileName}, which does not exist`);
      out.files.push(target);
    } else {
      out.packages.push(fileName);
    }
  }
  return out;
}

const rel = (file: string) => relative(root, file).split(sep).join('/');
const files = sources(src);
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const isTest = (file: string) => /\.test\.tsx?$/.test(file);
/** The part of src/ a file belongs to (`registry`, `gateway`, `template`...), or undefined outside src/. */
const area = (file: string) => (file.startsWith(src + sep) ? relative(src, file).split(sep)[0] : undefined);

/** Every import of one area into another (and out of src/), as `from -> to` lines. */
function crossings(accept: (from: string, to: string) => boolean): string[] {
  const found: string[] = [];
  for (const [from, { files: targets }] of graph) {
    for (const to of targets) if (!accept(from, to)) found.push(`${rel(from)} -> ${rel(to)}`);
  }
  return found;
}

/** Strongly connected components of the import graph with more than one file (or a file importing itself): Tarjan's. */
function cycles(): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.files ?? []) {
      if (!graph.has(w)) continue;
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, indices.get(w)!));
      }
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)?.files.includes(v)) found.push(component.map(rel).sort());
    }
  };
  for (const f of graph.keys()) if (!indices.has(f)) visit(f);
  return found;
}

describe('architecture', () => {
  it('reads the whole tree (the check would pass vacuously on nothing)', () => {
    for (const part of ['registry', 'gateway', 'template', 'tools', 'model', 'lib', 'console', 'cli']) {
      assert.ok(files.some((f) => area(f) === part), `no files found under src/${part}`);
    }
    assert.ok(files.some((f) => f.endsWith('.tsx')), 'the console\'s .tsx files are read');
  });

  it('has no import cycles anywhere in src/ (console pages and hooks included)', () => {
    assert.deepEqual(cycles(), [], 'import cycles (each line: the files of one cycle)');
  });

  it('keeps the registry and the gateway apart: neither imports the other', () => {
    const apart = (a: string | undefined, b: string | undefined) => !((a === 'registry' && b === 'gateway') || (a === 'gateway' && b === 'registry'));
    assert.deepEqual(crossings((from, to) => apart(area(from), area(to))), []);
  });

  it('keeps the template engine standalone: nothing out of it, and in only through src/template/index.ts', () => {
    const entry = join(src, 'template', 'index.ts');
    const fixtures = join(root, 'test', 'fixtures', 'template') + sep;
    const found = crossings((from, to) => {
      const inside = area(from) === 'template';
      const toInside = area(to) === 'template';
      if (inside && !toInside) return isTest(from) && to.startsWith(fixtures); // its tests read their data from test/fixtures/template
      if (!inside && toInside) return to === entry;
      return true;
    });
    assert.deepEqual(found, []);
    const packages: string[] = [];
    for (const [file, { packages: used }] of graph) {
      if (area(file) !== 'template' || isTest(file)) continue;
      for (const p of used) if (!p.startsWith('node:')) packages.push(`${rel(file)} -> ${p}`);
    }
    assert.deepEqual(packages, [], 'the engine uses no package');
  });

  it('keeps the layers in order: model and lib import no role nor the tools; the tools import no role', () => {
    const allowed: Record<string, readonly string[]> = {
      lib: ['lib'],
      model: ['model', 'lib', 'template'],
      tools: ['tools', 'model', 'lib', 'template'],
    };
    const found = crossings((from, to) => {
      const a = area(from);
      if (a === undefined || isTest(from) || !(a in allowed)) return true;
      const b = area(to);
      return b !== undefined && allowed[a]!.includes(b);
    });
    assert.deepEqual(found, []);
  });

  it('keeps the console a separate program: it imports only itself and the model\'s types; no server code imports it', () => {
    const found = crossings((from, to) => {
      if (area(from) === 'console') return area(to) === 'console' || area(to) === 'model';
      return area(to) !== 'console';
    });
    assert.deepEqual(found, []);
  });
});
