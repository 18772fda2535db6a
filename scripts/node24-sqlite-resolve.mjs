// Module resolve hook of scripts/node24-sqlite-hook.mjs.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

const entry = pathToFileURL(join(fileURLToPath(new URL('..', import.meta.url)), '.tools', 'node24-modules', 'node_modules', 'better-sqlite3', 'lib', 'index.js')).href;

export async function resolve(specifier, context, next) {
  if (specifier === 'better-sqlite3') return { url: entry, format: 'commonjs', shortCircuit: true };
  return next(specifier, context);
}
