#!/usr/bin/env node
// Entry point of the installed package: runs the compiled CLI.
import('../dist/cli/main.js').then((m) => m.main(process.argv.slice(2))).then(
  (code) => { if (typeof code === 'number' && code !== 0) process.exitCode = code; },
  (err) => { console.error(err); process.exit(1); },
);
