/**
 * Tool search for large catalogs: an immutable BM25F index over tool descriptors (name, title,
 * description, argument names and their descriptions), built once per snapshot and queried by
 * words, so that a virtual server in "search" mode can offer an agent the few tools that fit
 * instead of a thousand. No network model, no state shared between queries.
 *
 * Ranking is hand-written BM25F (Robertson & Zaragoza, "The Probabilistic Relevance Framework:
 * BM25 and Beyond", 2009): about forty lines, which buy per-field weights and length
 * normalisation (a word in a tool's name counts more than one in an argument's description),
 * scores precomputed per posting at build time (a query only adds numbers), an index that
 * cannot change once built and a total order on results. minisearch and wink-bm25-text-search
 * were considered: both index mutably, score with their own tokenizer pipeline around ours, and
 * neither breaks ties deterministically, so adopting one would save little code.
 */
import { tokenize } from './tokenize.js';

export { tokenize, stem, MAX_TEXT_CHARS, MAX_TERM_CHARS } from './tokenize.js';

/** What the index reads of a tool: the fields of an MCP tool definition that describe it. */
export interface ToolDescriptor {
  name: string;
  title?: string;
  description?: string;
  inputSchema?: unknown;
}

/** One search result: a tool's name and its relevance (higher is better; only the order matters). */
export interface ToolSearchHit {
  name: string;
  score: number;
}

/** An immutable search index over a tool catalog. */
export interface ToolIndex {
  /** Number of tools indexed. */
  readonly size: number;
  /**
   * The tools that best match the words of `query`, best first, at most `limit` of them
   * (default {@link DEFAULT_LIMIT}, at most {@link MAX_LIMIT}). Tools sharing no term with the
   * query are not returned; equal scores are ordered by name. Only the first
   * {@link MAX_QUERY_CHARS} characters and {@link MAX_QUERY_TERMS} distinct terms of the query
   * are used. Throws {@link ToolSearchInputError} when `query` is not a string or `limit` not a
   * positive integer.
   */
  search(query: string, limit?: number): ToolSearchHit[];
}

/** Results returned when the caller gives no limit. */
export const DEFAULT_LIMIT = 10;
/** Most results one query returns, whatever limit it asks for. */
export const MAX_LIMIT = 100;
/** Longest query read; the rest is ignored. */
export const MAX_QUERY_CHARS = 1_000;
/** Most distinct query terms scored; later ones are ignored. */
export const MAX_QUERY_TERMS = 64;

/** A descriptor or query the index refuses; `field` names it (`query`, `limit`, `tools[3].name`). */
export class ToolSearchInputError extends Error {
  override readonly name = 'ToolSearchInputError';
  readonly code = 'TOOL_SEARCH_INVALID_INPUT';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** A field of a descriptor: its weight in BM25F, and how much its length normalises (b). */
interface FieldSpec {
  readonly weight: number;
  readonly b: number;
}

/** The fields scored, in the order {@link fieldTexts} yields them. */
const FIELDS: readonly FieldSpec[] = [
  { weight: 3, b: 0.3 }, // name
  { weight: 2, b: 0.5 }, // title
  { weight: 1, b: 0.75 }, // description
  { weight: 0.8, b: 0.5 }, // argument names
  { weight: 0.3, b: 0.75 }, // argument descriptions, titles and enum values
];
/** BM25 term-frequency saturation. */
const K1 = 1.2;
/** Bounds of the walk over an inputSchema: nesting depth and schema nodes visited per tool. */
const MAX_SCHEMA_DEPTH = 6;
const MAX_SCHEMA_NODES = 1_000;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Argument names, and their descriptions, titles and enum values, from an inputSchema's `properties` (nested objects and array items too). */
function schemaTexts(schema: unknown): { names: string[]; docs: string[] } {
  const names: string[] = [];
  const docs: string[] = [];
  let budget = MAX_SCHEMA_NODES;
  let chars = 0;
  const add = (into: string[], text: unknown) => {
    if (typeof text === 'string' && chars < 4 * 20_000) {
      into.push(text);
      chars += text.length;
    }
  };
  const walk = (node: unknown, depth: number): void => {
    if (!isRecord(node) || depth > MAX_SCHEMA_DEPTH || budget-- <= 0) return;
    const props = node.properties;
    if (isRecord(props)) {
      for (const [key, prop] of Object.entries(props)) {
        add(names, key);
        if (isRecord(prop)) {
          add(docs, prop.description);
          add(docs, prop.title);
          if (Array.isArray(prop.enum)) for (const v of prop.enum.slice(0, 50)) add(docs, v);
        }
        walk(prop, depth + 1);
      }
    }
    const items = node.items;
    if (Array.isArray(items)) for (const item of items) walk(item, depth + 1);
    else walk(items, depth + 1);
    for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
      const branches = node[key];
      if (Array.isArray(branches)) for (const branch of branches) walk(branch, depth + 1);
    }
  };
  walk(schema, 0);
  return { names, docs };
}

/** The terms of each field of a descriptor, in {@link FIELDS} order. */
function fieldTerms(tool: ToolDescriptor): string[][] {
  const { names, docs } = schemaTexts(tool.inputSchema);
  return [
    tokenize(tool.name),
    tokenize(tool.title),
    tokenize(tool.description),
    names.flatMap((n) => tokenize(n)),
    docs.flatMap((d) => tokenize(d)),
  ];
}

/**
 * All postings of the index, packed: term `t`'s are `docs[offsets[t] .. offsets[t + 1])` with the
 * score each contributes in `scores` at the same places, precomputed. Three typed arrays rather
 * than two per term: a thousand-tool catalog has thousands of terms (CJK bigrams), and
 * allocating small typed arrays cost more than the rest of the build.
 */
interface Postings {
  readonly termIds: ReadonlyMap<string, number>;
  readonly offsets: Int32Array;
  readonly docs: Int32Array;
  readonly scores: Float64Array;
}

class Bm25ToolIndex implements ToolIndex {
  readonly #names: readonly string[];
  /** Position of each tool in name order, the tie-break. */
  readonly #nameRank: Int32Array;
  readonly #postings: Postings;

  constructor(names: readonly string[], nameRank: Int32Array, postings: Postings) {
    this.#names = names;
    this.#nameRank = nameRank;
    this.#postings = postings;
    Object.freeze(this);
  }

  get size(): number {
    return this.#names.length;
  }

  search(query: string, limit: number = DEFAULT_LIMIT): ToolSearchHit[] {
    if (typeof query !== 'string') throw new ToolSearchInputError('query', 'must be a string');
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
      throw new ToolSearchInputError('limit', 'must be a positive integer');
    }
    const terms = [...new Set(tokenize(query.slice(0, MAX_QUERY_CHARS)))].slice(0, MAX_QUERY_TERMS);
    const scores = new Float64Array(this.#names.length);
    const touched: number[] = [];
    const { termIds, offsets, docs, scores: contributions } = this.#postings;
    for (const term of terms) {
      const id = termIds.get(term);
      if (id === undefined) continue;
      for (let i = offsets[id]!, end = offsets[id + 1]!; i < end; i++) {
        const doc = docs[i]!;
        if (scores[doc] === 0) touched.push(doc);
        scores[doc]! += contributions[i]!;
      }
    }
    const rank = this.#nameRank;
    touched.sort((a, b) => scores[b]! - scores[a]! || rank[a]! - rank[b]!);
    return touched
      .slice(0, Math.min(limit, MAX_LIMIT))
      .map((doc) => ({ name: this.#names[doc]!, score: Math.round(scores[doc]! * 1e4) / 1e4 }));
  }
}

/**
 * Builds the search index of a tool catalog. Each tool needs a non-empty, unique string `name`;
 * `title`, `description` and `inputSchema` are read when they are of the right type and ignored
 * otherwise. Throws {@link ToolSearchInputError} naming the entry at fault.
 */
export function buildToolIndex(tools: ReadonlyArray<ToolDescriptor>): ToolIndex {
  if (!Array.isArray(tools)) throw new ToolSearchInputError('tools', 'must be an array of tool descriptors');
  const names: string[] = [];
  const seen = new Set<string>();
  const perTool: string[][][] = [];
  const totals = FIELDS.map(() => 0);
  tools.forEach((tool: unknown, i) => {
    if (!isRecord(tool)) throw new ToolSearchInputError(`tools[${i}]`, 'must be an object');
    const { name } = tool;
    if (typeof name !== 'string' || name.length === 0) throw new ToolSearchInputError(`tools[${i}].name`, 'must be a non-empty string');
    if (seen.has(name)) throw new ToolSearchInputError(`tools[${i}].name`, `duplicate tool name "${name}"`);
    seen.add(name);
    names.push(name);
    const fields = fieldTerms(tool as unknown as ToolDescriptor);
    fields.forEach((terms, f) => (totals[f]! += terms.length));
    perTool.push(fields);
  });

  const n = names.length;
  const avgLength = totals.map((t) => Math.max(t / Math.max(n, 1), 1));
  // Per term, the tools containing it with their BM25F pseudo-frequency (weighted, length-normalised per field).
  const frequencies = new Map<string, { docs: number[]; tf: number[] }>();
  const tf = new Map<string, number>();
  for (let doc = 0; doc < n; doc++) {
    tf.clear();
    const fields = perTool[doc]!;
    for (let f = 0; f < fields.length; f++) {
      const terms = fields[f]!;
      const { weight, b } = FIELDS[f]!;
      const increment = weight / (1 - b + (b * terms.length) / avgLength[f]!);
      for (const term of terms) tf.set(term, (tf.get(term) ?? 0) + increment);
    }
    for (const [term, value] of tf) {
      let entry = frequencies.get(term);
      if (entry === undefined) frequencies.set(term, (entry = { docs: [], tf: [] }));
      entry.docs.push(doc);
      entry.tf.push(value);
    }
  }

  let total = 0;
  for (const entry of frequencies.values()) total += entry.docs.length;
  const termIds = new Map<string, number>();
  const offsets = new Int32Array(frequencies.size + 1);
  const docs = new Int32Array(total);
  const scores = new Float64Array(total);
  let at = 0;
  for (const [term, entry] of frequencies) {
    const df = entry.docs.length;
    const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
    offsets[termIds.size] = at;
    termIds.set(term, termIds.size);
    for (let i = 0; i < df; i++, at++) {
      const value = entry.tf[i]!;
      docs[at] = entry.docs[i]!;
      scores[at] = (idf * value * (K1 + 1)) / (K1 + value);
    }
  }
  offsets[termIds.size] = at;

  const byName = names.map((_, i) => i).sort((a, b) => (names[a]! < names[b]! ? -1 : names[a]! > names[b]! ? 1 : 0));
  const nameRank = new Int32Array(n);
  byName.forEach((doc, position) => (nameRank[doc] = position));
  return new Bm25ToolIndex(Object.freeze(names), nameRank, { termIds, offsets, docs, scores });
}
