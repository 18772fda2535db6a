/**
 * The parser of Go's text/template: tokens in, one `Tree` per named template out.
 * It follows Go's grammar and error wording (`unexpected EOF`, `function "x" not
 * defined`, `undefined variable "$x"`, `missing value for command`...), and resolves
 * every variable to a frame slot so the evaluator never looks names up.
 */
import type {
  ArgNode,
  CommandNode,
  IdentifierNode,
  ListNode,
  Node,
  PipeNode,
  StringNode,
  TemplateNode,
  Tree,
  VariableNode,
} from './ast.js';
import { nodeString } from './ast.js';
import { TemplateError, lineColumn } from './errors.js';
import type { Token, TokenType } from './lexer.js';
import { goQuote, isKeywordToken, lex } from './lexer.js';

/** Maximum nesting of parenthesised expressions and control structures (Go allows 10000). */
export const MAX_PARSE_DEPTH = 1000;

/** What the parser needs to know about the outside world. */
export interface ParseOptions {
  /** Name of the top-level template, used in error messages. */
  readonly name: string;
  /** Whether a function of this name exists (unknown functions are parse errors). */
  readonly hasFunction: (name: string) => boolean;
}

/** The templates defined by one source: the top-level one is `trees.get(main)`. */
export interface ParsedSource {
  readonly main: string;
  readonly trees: ReadonlyMap<string, Tree>;
}

type Marker = { readonly type: 'end'; readonly pos: number } | { readonly type: 'else'; readonly pos: number };

interface Scope {
  readonly vars: { name: string; slot: number }[];
  slotCount: number;
  rangeDepth: number;
}

const COMMAND_START: ReadonlySet<TokenType> = new Set<TokenType>([
  'bool',
  'charConstant',
  'complex',
  'dot',
  'field',
  'identifier',
  'number',
  'nil',
  'rawString',
  'string',
  'variable',
  'leftParen',
]);

/** Go's `item.String()`, used in `unexpected X in Y`. */
function tokenString(t: Token): string {
  if (t.type === 'eof') return 'EOF';
  if (t.type === 'error') return t.val;
  if (isKeywordToken(t.type)) return `<${t.val}>`;
  const runes = Array.from(t.val);
  if (runes.length > 10) return goQuote(runes.slice(0, 10).join('')) + '...';
  return goQuote(t.val);
}

function markerString(m: Node | Marker): string {
  if (m.type === 'end') return '{{end}}';
  if (m.type === 'else') return '{{else}}';
  return nodeString(m);
}

/** Go's parse.IsEmptyTree: only whitespace text (and comments, which are dropped). */
function isEmptyList(list: ListNode): boolean {
  return list.nodes.every((n) => (n.type === 'text' ? n.text.trim() === '' : n.type === 'list' ? isEmptyList(n) : false));
}

class SyntaxFailure {
  constructor(
    readonly message: string,
    readonly pos: number,
  ) {}
}

const INVALID = 'invalid syntax';

const decoder = new TextDecoder('utf-8');

/**
 * Go's strconv.UnquoteChar: the value at `s[i]` (an escape or a character) and where
 * the next one starts. `byte` marks `\x`/octal escapes, which are raw bytes in Go.
 */
function unquoteChar(s: string, i: number, quote: number): { value: number; byte: boolean; next: number } {
  const c = s.codePointAt(i);
  if (c === undefined) throw INVALID;
  if (c === quote && (quote === 0x27 || quote === 0x22)) throw INVALID;
  if (c !== 0x5c) return { value: c, byte: false, next: i + (c > 0xffff ? 2 : 1) };
  const e = s.charCodeAt(i + 1);
  const simple: Record<number, number> = { 0x61: 7, 0x62: 8, 0x66: 12, 0x6e: 10, 0x72: 13, 0x74: 9, 0x76: 11, 0x5c: 0x5c };
  const mapped = simple[e];
  if (mapped !== undefined) return { value: mapped, byte: false, next: i + 2 };
  if (e === 0x78 || e === 0x75 || e === 0x55) {
    const n = e === 0x78 ? 2 : e === 0x75 ? 4 : 8;
    const hex = s.slice(i + 2, i + 2 + n);
    if (hex.length !== n || !/^[0-9a-fA-F]+$/.test(hex)) throw INVALID;
    const v = parseInt(hex, 16);
    if (e === 0x78) return { value: v, byte: true, next: i + 2 + n };
    if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) throw INVALID;
    return { value: v, byte: false, next: i + 2 + n };
  }
  if (e >= 0x30 && e <= 0x37) {
    const oct = s.slice(i + 1, i + 4);
    if (!/^[0-7]{3}$/.test(oct)) throw INVALID;
    const v = parseInt(oct, 8);
    if (v > 255) throw INVALID;
    return { value: v, byte: true, next: i + 4 };
  }
  if (e === 0x27 || e === 0x22) {
    if (e !== quote) throw INVALID;
    return { value: e, byte: false, next: i + 2 };
  }
  throw INVALID;
}

/** Go's strconv.Unquote for a double-quoted or backquoted literal. */
function unquote(quoted: string): string {
  if (quoted.startsWith('`')) return quoted.slice(1, -1).replace(/\r/g, '');
  const body = quoted.slice(1, -1);
  if (!body.includes('\\')) {
    if (body.includes('"') || body.includes('\n')) throw INVALID;
    return body;
  }
  let out = '';
  let bytes: number[] = [];
  for (let i = 0; i < body.length; ) {
    const r = unquoteChar(body, i, 0x22);
    if (r.byte) {
      bytes.push(r.value);
    } else {
      if (bytes.length > 0) {
        out += decoder.decode(new Uint8Array(bytes));
        bytes = [];
      }
      out += String.fromCodePoint(r.value);
    }
    i = r.next;
  }
  if (bytes.length > 0) out += decoder.decode(new Uint8Array(bytes));
  return out;
}

/** Go's underscoreOK: underscores only between digits (or after a base prefix). */
function underscoreOK(text: string): boolean {
  let s = text;
  if (s.startsWith('+') || s.startsWith('-')) s = s.slice(1);
  let saw = '^';
  let i = 0;
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && 'bBoOxX'.includes(s[1] ?? '')) {
    i = 2;
    saw = '0';
    hex = s[1] === 'x' || s[1] === 'X';
  }
  for (; i < s.length; i++) {
    const ch = s[i] ?? '';
    if ((ch >= '0' && ch <= '9') || (hex && /[a-fA-F]/.test(ch))) {
      saw = '0';
      continue;
    }
    if (ch === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

function parseGoInt(text: string): number | undefined {
  let s = text;
  let neg = false;
  if (s.startsWith('+') || s.startsWith('-')) {
    neg = s.startsWith('-');
    s = s.slice(1);
  }
  if (s.includes('_')) {
    if (!underscoreOK(text)) return undefined;
    s = s.replace(/_/g, '');
  }
  let big: bigint;
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) big = BigInt('0x' + s.slice(2));
  else if (/^0[oO][0-7]+$/.test(s)) big = BigInt('0o' + s.slice(2));
  else if (/^0[bB][01]+$/.test(s)) big = BigInt('0b' + s.slice(2));
  else if (/^0[0-7]*$/.test(s)) big = s.length > 1 ? BigInt('0o' + s.slice(1)) : 0n;
  else if (/^[1-9][0-9]*$/.test(s)) big = BigInt(s);
  else return undefined;
  if (neg) big = -big;
  if (big < INT64_MIN || big > UINT64_MAX) return undefined;
  return Number(big);
}

function parseGoFloat(text: string): number | undefined {
  let s = text;
  if (s.includes('_')) {
    if (!underscoreOK(text)) return undefined;
    s = s.replace(/_/g, '');
  }
  let v: number;
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s)) {
    v = Number(s);
  } else {
    const m = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/.exec(s);
    if (!m) return undefined;
    const int = m[2] ?? '';
    const frac = m[3] ?? '';
    if (int === '' && frac === '') return undefined;
    const mantissa = Number(BigInt('0x' + (int + frac || '0'))) / 16 ** frac.length;
    v = mantissa * 2 ** Number(m[4]);
    if (m[1] === '-') v = -v;
  }
  return Number.isFinite(v) ? v : undefined;
}

/** Go's newNumber for number tokens and character constants (complex numbers are refused). */
function parseNumber(text: string, type: TokenType): number {
  if (type === 'charConstant') {
    const r = unquoteChar(text, 1, 0x27);
    if (r.next !== text.length - 1) throw `malformed character constant: ${text}`;
    return r.value;
  }
  if (type === 'complex' || (text.endsWith('i') && parseGoFloat(text.slice(0, -1)) !== undefined)) {
    throw `complex numbers are not supported: ${goQuote(text)}`;
  }
  const i = parseGoInt(text);
  if (i !== undefined) return i;
  const f = parseGoFloat(text);
  if (f !== undefined) {
    if (!/[.eEpP]/.test(text)) throw `integer overflow: ${goQuote(text)}`;
    return f;
  }
  throw `illegal number syntax: ${goQuote(text)}`;
}

class Parser {
  private readonly tokens: Token[];
  private i = 0;
  private readonly trees = new Map<string, Tree>();
  private scope: Scope = Parser.newScope();
  private depth = 0;
  private actionStart = -1;
  private lastPos = 0;

  constructor(
    private readonly source: string,
    private readonly options: ParseOptions,
  ) {
    this.tokens = lex(source);
  }

  private static newScope(): Scope {
    return { vars: [{ name: '$', slot: 0 }], slotCount: 1, rangeDepth: 0 };
  }

  run(): ParsedSource {
    const root = this.topLevel();
    this.add(this.options.name, root, this.scope.slotCount);
    return { main: this.options.name, trees: this.trees };
  }

  // ---- token stream ----

  private next(): Token {
    const t = this.tokens[Math.min(this.i, this.tokens.length - 1)] as Token;
    this.i++;
    this.lastPos = t.pos;
    return t;
  }

  private backup(): void {
    this.i--;
  }

  private peek(): Token {
    return this.tokens[Math.min(this.i, this.tokens.length - 1)] as Token;
  }

  private nextNonSpace(): Token {
    let t = this.next();
    while (t.type === 'space') t = this.next();
    return t;
  }

  private peekNonSpace(): Token {
    const t = this.nextNonSpace();
    this.backup();
    return t;
  }

  // ---- errors ----

  private fail(message: string, pos: number = this.lastPos): never {
    throw new SyntaxFailure(message, pos);
  }

  private unexpected(t: Token, context: string): never {
    if (t.type === 'error') {
      let extra = '';
      if (this.actionStart >= 0) {
        const started = lineColumn(this.source, this.actionStart).line;
        if (started !== lineColumn(this.source, t.pos).line) {
          extra = t.val.endsWith(' action') ? ` started at ${this.options.name}:${started}` : ` in action started at ${this.options.name}:${started}`;
        }
      }
      this.fail(t.val + extra, t.pos);
    }
    this.fail(`unexpected ${tokenString(t)} in ${context}`, t.pos);
  }

  private expect(type: TokenType, context: string): Token {
    const t = this.nextNonSpace();
    if (t.type !== type) this.unexpected(t, context);
    return t;
  }

  // ---- trees ----

  private add(name: string, root: ListNode, slotCount: number): void {
    const existing = this.trees.get(name);
    if (!existing || isEmptyList(existing.root)) {
      this.trees.set(name, { name, root, slotCount });
      return;
    }
    if (!isEmptyList(root)) this.fail(`template: multiple definition of template ${goQuote(name)}`);
  }

  private withScope<T>(fn: () => T): [T, Scope] {
    const saved = this.scope;
    this.scope = Parser.newScope();
    try {
      const result = fn();
      return [result, this.scope];
    } finally {
      this.scope = saved;
    }
  }

  private topLevel(): ListNode {
    const root: ListNode = { type: 'list', pos: this.peek().pos, nodes: [] };
    while (this.peek().type !== 'eof') {
      if (this.peek().type === 'leftDelim') {
        const save = this.i;
        this.next();
        if (this.nextNonSpace().type === 'define') {
          this.definition();
          continue;
        }
        this.i = save;
      }
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') this.fail(`unexpected ${markerString(n)}`, n.pos);
      root.nodes.push(n);
    }
    return root;
  }

  private definition(): void {
    const context = 'define clause';
    const nameTok = this.nextNonSpace();
    if (nameTok.type !== 'string' && nameTok.type !== 'rawString') this.unexpected(nameTok, context);
    const name = this.unquoteToken(nameTok);
    this.expect('rightDelim', context);
    const [[root, end], scope] = this.withScope(() => this.itemList());
    if (end.type !== 'end') this.fail(`unexpected ${markerString(end)} in ${context}`, end.pos);
    this.add(name, root, scope.slotCount);
  }

  private itemList(): [ListNode, Node | Marker] {
    const list: ListNode = { type: 'list', pos: this.peekNonSpace().pos, nodes: [] };
    while (this.peekNonSpace().type !== 'eof') {
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') return [list, n];
      list.nodes.push(n);
    }
    this.fail('unexpected EOF', this.peek().pos);
  }

  private textOrAction(): Node | Marker {
    const t = this.nextNonSpace();
    if (t.type === 'text') return { type: 'text', pos: t.pos, text: t.val };
    if (t.type === 'leftDelim') {
      this.actionStart = t.pos;
      try {
        return this.action();
      } finally {
        this.actionStart = -1;
      }
    }
    this.unexpected(t, 'input');
  }

  private action(): Node | Marker {
    const t = this.nextNonSpace();
    switch (t.type) {
      case 'block':
        return this.blockControl();
      case 'break':
      case 'continue':
        return this.loopControl(t);
      case 'else':
        return this.elseControl(t);
      case 'end':
        this.expect('rightDelim', 'end');
        return { type: 'end', pos: t.pos };
      case 'if':
      case 'range':
      case 'with':
        return this.control(t.type);
      case 'template':
        return this.templateControl();
    }
    this.backup();
    const pos = this.peek().pos;
    return { type: 'action', pos, pipe: this.pipeline('command', 'rightDelim') };
  }

  private loopControl(t: Token): Node {
    const next = this.nextNonSpace();
    if (next.type !== 'rightDelim') this.unexpected(next, `{{${t.val}}}`);
    if (this.scope.rangeDepth === 0) this.fail(`{{${t.val}}} outside {{range}}`, t.pos);
    return { type: t.type === 'break' ? 'break' : 'continue', pos: t.pos };
  }

  private elseControl(keyword: Token): Marker {
    const peek = this.peekNonSpace();
    if (peek.type === 'if' || peek.type === 'with') return { type: 'else', pos: peek.pos };
    this.expect('rightDelim', 'else');
    return { type: 'else', pos: keyword.pos };
  }

  private enter(what: string): void {
    if (this.depth >= MAX_PARSE_DEPTH) this.fail(`max ${what} depth exceeded`);
    this.depth++;
  }

  private control(context: 'if' | 'range' | 'with'): Node {
    this.enter('control structure');
    const mark = this.scope.vars.length;
    try {
      const pipe = this.pipeline(context, 'rightDelim');
      if (context === 'range') this.scope.rangeDepth++;
      const [list, next] = this.itemList();
      if (context === 'range') this.scope.rangeDepth--;
      let elseList: ListNode | null = null;
      if (next.type === 'else') {
        const p = this.peek();
        if ((context === 'if' && p.type === 'if') || (context === 'with' && p.type === 'with')) {
          this.next();
          elseList = { type: 'list', pos: next.pos, nodes: [this.control(context)] };
        } else {
          const [els, end] = this.itemList();
          if (end.type !== 'end') this.fail(`expected end; found ${markerString(end)}`, end.pos);
          elseList = els;
        }
      }
      return { type: context, pos: pipe.pos, pipe, list, elseList };
    } finally {
      this.scope.vars.length = mark;
      this.depth--;
    }
  }

  private templateName(t: Token, context: string): string {
    if (t.type !== 'string' && t.type !== 'rawString') this.unexpected(t, context);
    return this.unquoteToken(t);
  }

  private templateControl(): TemplateNode {
    const context = 'template clause';
    const t = this.nextNonSpace();
    const name = this.templateName(t, context);
    let pipe: PipeNode | null = null;
    if (this.nextNonSpace().type !== 'rightDelim') {
      this.backup();
      pipe = this.pipeline(context, 'rightDelim');
    }
    return { type: 'template', pos: t.pos, name, pipe };
  }

  private blockControl(): TemplateNode {
    const context = 'block clause';
    this.enter('control structure');
    try {
      const t = this.nextNonSpace();
      const name = this.templateName(t, context);
      const pipe = this.pipeline(context, 'rightDelim');
      const [[root, end], scope] = this.withScope(() => this.itemList());
      if (end.type !== 'end') this.fail(`unexpected ${markerString(end)} in ${context}`, end.pos);
      this.add(name, root, scope.slotCount);
      return { type: 'template', pos: t.pos, name, pipe };
    } finally {
      this.depth--;
    }
  }

  // ---- pipelines ----

  private pipeline(context: string, end: TokenType): PipeNode {
    const pipe: PipeNode = { type: 'pipe', pos: this.peekNonSpace().pos, isAssign: false, decl: [], cmds: [] };
    const declared: Token[] = [];
    for (;;) {
      const v = this.peekNonSpace();
      if (v.type !== 'variable') break;
      const save = this.i;
      this.next();
      const op = this.peekNonSpace();
      if (op.type === 'assign' || op.type === 'declare') {
        pipe.isAssign = op.type === 'assign';
        this.nextNonSpace();
        declared.push(v);
        break;
      }
      if (op.type === 'char' && op.val === ',') {
        this.nextNonSpace();
        declared.push(v);
        if (context === 'range' && declared.length < 2) {
          const p = this.peekNonSpace().type;
          if (p === 'variable' || p === 'rightDelim' || p === 'rightParen') continue;
          this.fail('range can only initialize variables');
        }
        this.fail(`too many declarations in ${context}`);
      }
      this.i = save;
      break;
    }
    for (;;) {
      const t = this.nextNonSpace();
      if (t.type === end) {
        if (pipe.cmds.length === 0) this.fail(`missing value for ${context}`, t.pos);
        for (let k = 1; k < pipe.cmds.length; k++) {
          const first = (pipe.cmds[k] as CommandNode).args[0];
          if (first && (first.type === 'bool' || first.type === 'dot' || first.type === 'nil' || first.type === 'number' || first.type === 'string')) {
            this.fail(`non executable command in pipeline stage ${k + 1}`, first.pos);
          }
        }
        break;
      }
      if (!COMMAND_START.has(t.type)) this.unexpected(t, context);
      this.backup();
      pipe.cmds.push(this.command());
    }
    // Declared after the commands are parsed, so `$x := add $x 1` reads the outer $x (as Go's stack does).
    for (const v of declared) pipe.decl.push(this.declare(v, pipe.isAssign));
    return pipe;
  }

  private declare(v: Token, isAssign: boolean): VariableNode {
    const ident = v.val.split('.');
    if (ident.length > 1) this.fail(`unexpected ${tokenString(v)} in declaration`, v.pos);
    const name = v.val;
    if (isAssign) {
      const found = this.lookup(name);
      if (found !== undefined) return { type: 'variable', pos: v.pos, ident, slot: found };
      const slot = this.scope.slotCount++;
      this.scope.vars.push({ name, slot });
      return { type: 'variable', pos: v.pos, ident, slot, undeclared: true };
    }
    const slot = this.scope.slotCount++;
    this.scope.vars.push({ name, slot });
    return { type: 'variable', pos: v.pos, ident, slot };
  }

  private lookup(name: string): number | undefined {
    const vars = this.scope.vars;
    for (let k = vars.length - 1; k >= 0; k--) {
      const v = vars[k];
      if (v && v.name === name) return v.slot;
    }
    return undefined;
  }

  private command(): CommandNode {
    const cmd: CommandNode = { type: 'command', pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const t = this.next();
      if (t.type === 'space') continue;
      if (t.type === 'rightDelim' || t.type === 'rightParen') this.backup();
      else if (t.type !== 'pipe') this.unexpected(t, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.fail('empty command');
    return cmd;
  }

  private operand(): ArgNode | null {
    const node = this.term();
    if (!node) return null;
    if (this.peek().type !== 'field') return node;
    const field: string[] = [];
    while (this.peek().type === 'field') field.push(this.next().val.slice(1));
    switch (node.type) {
      case 'field':
        return { type: 'field', pos: node.pos, ident: [...node.ident, ...field] };
      case 'variable':
        return { ...node, ident: [...node.ident, ...field] };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        this.fail(`unexpected . after term ${goQuote(nodeString(node))}`);
      // falls through: fail() never returns
      default:
        return { type: 'chain', pos: node.pos, node, field };
    }
  }

  private term(): ArgNode | null {
    const t = this.nextNonSpace();
    switch (t.type) {
      case 'identifier': {
        if (!this.options.hasFunction(t.val)) this.fail(`function ${goQuote(t.val)} not defined`, t.pos);
        const id: IdentifierNode = { type: 'identifier', pos: t.pos, ident: t.val };
        return id;
      }
      case 'dot':
        return { type: 'dot', pos: t.pos };
      case 'nil':
        return { type: 'nil', pos: t.pos };
      case 'variable': {
        const slot = this.lookup(t.val);
        if (slot === undefined) this.fail(`undefined variable ${goQuote(t.val)}`, t.pos);
        return { type: 'variable', pos: t.pos, ident: [t.val], slot };
      }
      case 'field':
        return { type: 'field', pos: t.pos, ident: [t.val.slice(1)] };
      case 'bool':
        return { type: 'bool', pos: t.pos, value: t.val === 'true' };
      case 'charConstant':
      case 'complex':
      case 'number': {
        let value: number;
        try {
          value = parseNumber(t.val, t.type);
        } catch (e) {
          this.fail(typeof e === 'string' ? e : INVALID, t.pos);
        }
        return { type: 'number', pos: t.pos, text: t.val, value };
      }
      case 'leftParen': {
        this.enter('expression');
        try {
          return this.pipeline('parenthesized pipeline', 'rightParen');
        } finally {
          this.depth--;
        }
      }
      case 'string':
      case 'rawString': {
        const s: StringNode = { type: 'string', pos: t.pos, quoted: t.val, text: this.unquoteToken(t), raw: t.type === 'rawString' };
        return s;
      }
    }
    this.backup();
    return null;
  }

  private unquoteToken(t: Token): string {
    try {
      return unquote(t.val);
    } catch {
      this.fail(INVALID, t.pos);
    }
  }
}

/** Parse a template source into its named trees; throws `TemplateError` (TEMPLATE_PARSE). */
export function parseSource(source: string, options: ParseOptions): ParsedSource {
  try {
    return new Parser(source, options).run();
  } catch (e) {
    if (e instanceof SyntaxFailure) {
      const { line, column } = lineColumn(source, e.pos);
      throw new TemplateError('TEMPLATE_PARSE', e.message, options.name, line, column);
    }
    throw e;
  }
}
