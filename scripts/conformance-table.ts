// Regenerates the table of docs/conformance.md: the MCP conformance suite's server scenarios
// against server-everything and the conformance fixture directly and through mcpgate (mcp-streamable, mcp-sse, stdio), for
// each spec version the suite offers. Needs Node 24 and the suite in .tools/ (node
// scripts/node24.mjs && node scripts/conformance.mjs). Run: npx tsx scripts/conformance-table.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { conformanceTable, markdownTables } from '../test/support/conformance.js';

const BEGIN = '<!-- conformance-table:begin -->';
const END = '<!-- conformance-table:end -->';
const doc = resolve(import.meta.dirname, '../docs/conformance.md');

const { tables } = await conformanceTable((what) => process.stderr.write(`conformance: ${what}\n`));
const text = readFileSync(doc, 'utf8');
const start = text.indexOf(BEGIN);
const end = text.indexOf(END);
if (start < 0 || end < start) throw new Error(`${doc} has no ${BEGIN} … ${END} markers`);
writeFileSync(doc, `${text.slice(0, start + BEGIN.length)}\n\n${markdownTables(tables)}${text.slice(end)}`);
process.stderr.write(`wrote ${doc}\n`);
