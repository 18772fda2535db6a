/**
 * The evaluator. Each parsed tree is compiled once into closures: field chains become
 * pre-compiled GJSON paths, functions are resolved to their implementations, variables
 * to frame slots. Rendering then only runs those closures, appending to one string and
 * counting steps and output bytes against the caller's budgets.
 */
import type { ArgNode, CommandNode, IdentifierNode, ListNode, Node, PipeNode, Tree, VariableNode } from './ast.js';
import { nodeString } from './ast.js';
import { TemplateError, lineColumn } from './errors.js';
import type { TemplateErrorCode } from './errors.js';
import { ArgumentError, CLIENT_FUNCTIONS, FUNCTIONS, isTrue, printValue } from './functions/index.js';
import type { RenderClient, TemplateFunction } from './functions/index.js';
import { compilePath, gjsonGet } from './gjson/gjson.js';
import { goQuote } from './lexer.js';
import type { ParsedSource } from './parser.js';
import { GoDuration, GoTime } from './values.js';
import type { JsonValue, TemplateValue } from './values.js';

/** How deep `{{template}}` calls may nest (Go allows 100000). */
export const MAX_TEMPLATE_DEPTH = 100;

/** Names the evaluator implements itself: `and`/`or` short-circuit, `gjson` reads dot. */
export const SPECIAL_FORMS: ReadonlySet<string> = new Set(['and', 'or', 'gjson']);

/** A compiled template set: renders its top-level template within the given budgets. */
export type CompiledRender = (data: TemplateValue, maxOutputBytes: number, maxSteps: number, client?: RenderClient) => string;

/** The per-render state of one evaluation. */
export interface State {
  out: string;
  steps: number;
  readonly maxSteps: number;
  readonly maxBytes: number;
  /** Below this many UTF-16 units the output cannot exceed maxBytes (a unit is at most 3 bytes). */
  readonly fast: number;
  /** Exact UTF-8 size of `out` once past `fast`, -1 before. */
  bytes: number;
  vars: TemplateValue[];
  depth: number;
  /** The render's input: plain JSON, so it and everything a path finds in it print without a scan for times. */
  readonly data: TemplateValue;
  /** What a tracking render (taint.ts) follows besides the values; null in a plain render. */
  readonly track: unknown;
  /** The agent's connection, for `getSocketIP` / `getRealIP`; undefined outside a tool call. */
  readonly client: RenderClient | undefined;
}

/** A statement: returns 0, or BREAK / CONTINUE travelling up to the enclosing range. */
export type Stmt = (st: State, dot: TemplateValue) => number;
/** An expression: computes a value from the state and dot. */
export type Expr = (st: State, dot: TemplateValue) => TemplateValue;
/** A pipeline stage: an expression that may receive the previous stage's value as `final`. */
export type Cmd = (st: State, dot: TemplateValue, final?: TemplateValue) => TemplateValue;

/** Returned by a statement that ran `{{break}}`. */
export const BREAK = 1;
/** Returned by a statement that ran `{{continue}}`. */
export const CONTINUE = 2;

interface Origin {
  readonly source: string;
  readonly name: string;
}

/** Where an error is reported: the node (for Go's `at <...>`) and the template executing it. */
export interface Site {
  readonly origin: Origin;
  readonly tree: string;
  readonly node: Node | ArgNode | CommandNode;
}

/** A compiled template of the set, linked by name for `{{template}}` calls. */
export interface Linked {
  body: Stmt;
  readonly slotCount: number;
}

type PathGetter = ReturnType<typeof compilePath>;

/** Throws the execution error `detail` at `site`. */
export function raise(site: Site, detail: string, code: TemplateErrorCode = 'TEMPLATE_EXEC'): never {
  const { line, column } = lineColumn(site.origin.source, site.node.pos);
  throw new TemplateError(code, detail, site.origin.name, line, column, { executing: site.tree, node: nodeString(site.node) });
}

/** Throws the step-budget error at `site`. */
export function overSteps(st: State, site: Site): never {
  raise(site, `exceeded the step budget of ${st.maxSteps} steps`, 'TEMPLATE_STEP_BUDGET');
}

function checkOutput(st: State, piece: string, site: Site): void {
  if (st.out.length > st.maxBytes) raise(site, `output exceeds the maximum of ${st.maxBytes} bytes`, 'TEMPLATE_OUTPUT_BUDGET');
  st.bytes = st.bytes < 0 ? Buffer.byteLength(st.out, 'utf8') : st.bytes + Buffer.byteLength(piece, 'utf8');
  if (st.bytes > st.maxBytes) raise(site, `output exceeds the maximum of ${st.maxBytes} bytes`, 'TEMPLATE_OUTPUT_BUDGET');
}

/** Appends to the output, checking the output budget. */
export function write(st: State, piece: string, site: Site): void {
  st.out += piece;
  if (st.out.length > st.fast) checkOutput(st, piece, site);
}

/** A JSON object or array a path can be applied to (not a time or duration value). */
export function isContainer(v: TemplateValue): v is JsonValue[] | { [key: string]: JsonValue } {
  if (typeof v !== 'object' || v === null) return false;
  // Cheaper than instanceof on the hot path; a JSON member named "constructor" is never one of these classes.
  const c: unknown = (v as { constructor?: unknown }).constructor;
  return c !== GoTime && c !== GoDuration;
}

/** A JSON value (not a time, a duration or a missing value). */
export function isJson(v: TemplateValue): v is JsonValue {
  return v !== undefined && (typeof v !== 'object' || v === null || isContainer(v));
}

/** How a value prints. */
export function toText(v: TemplateValue): string {
  return typeof v === 'string' ? v : printValue(v);
}

/**
 * `printValue` of a value known to be plain JSON (the input data or part of it): objects
 * and arrays go straight to JSON.stringify, skipping printValue's search for embedded
 * times and durations, which only function results can contain.
 */
export function printJson(v: TemplateValue): string {
  if (typeof v === 'string') return v;
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : printValue(v);
}

/** A function threw: Go reports argument errors at the function name, others as `error calling NAME: ...` at the command. */
export function callFailed(e: unknown, name: string, site: Site, nameSite: Site): never {
  if (e instanceof TemplateError) throw e;
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof ArgumentError) raise(nameSite, message);
  raise(site, `error calling ${name}: ${message}`);
}

/** UTF-8 length of a code point. */
export function utf8Width(codePoint: number): number {
  return codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
}

/** A statement that does nothing. */
export const NOOP: Stmt = () => 0;

/**
 * Compiles parsed trees into closures. The methods are the compilation of each kind of node;
 * the tracking compiler (taint.ts) overrides some of them, so that a plain render keeps these
 * closures exactly as they are.
 */
export class Compiler {
  private readonly origin: Origin;
  protected readonly linked = new Map<string, Linked>();
  private readonly paths = new Map<string, PathGetter>();

  constructor(
    protected readonly parsed: ParsedSource,
    source: string,
  ) {
    this.origin = { source, name: parsed.main };
  }

  compile(): CompiledRender {
    const run = this.runner(() => null);
    return (data, maxOutputBytes, maxSteps, client) => run(data, maxOutputBytes, maxSteps, client).out;
  }

  /** Links every tree and answers a function that renders the main one into a fresh state. */
  protected runner(track: (data: TemplateValue) => unknown): (data: TemplateValue, maxOutputBytes: number, maxSteps: number, client?: RenderClient) => State {
    for (const [name, tree] of this.parsed.trees) this.linked.set(name, { body: NOOP, slotCount: tree.slotCount });
    for (const [name, tree] of this.parsed.trees) (this.linked.get(name) as Linked).body = this.list(tree.root, tree);
    const main = this.linked.get(this.parsed.main) as Linked;
    const body = main.body;
    const slotCount = main.slotCount;
    return (data, maxOutputBytes, maxSteps, client) => {
      const vars: TemplateValue[] = slotCount === 1 ? [data] : new Array<TemplateValue>(slotCount);
      vars[0] = data;
      const st: State = {
        out: '',
        steps: 0,
        maxSteps,
        maxBytes: maxOutputBytes,
        fast: Math.floor(maxOutputBytes / 3),
        bytes: -1,
        vars,
        depth: 0,
        data,
        track: track(data),
        client,
      };
      try {
        body(st, data);
      } catch (e) {
        if (e instanceof TemplateError) throw e;
        const deep = e instanceof RangeError && /call stack/i.test(e.message);
        throw new TemplateError('TEMPLATE_EXEC', deep ? 'template execution too deeply nested' : `internal error: ${e instanceof Error ? e.message : String(e)}`, this.parsed.main, 1, 1);
      }
      return st;
    };
  }

  protected site(node: Site['node'], tree: Tree): Site {
    return { origin: this.origin, tree: tree.name, node };
  }

  protected path(path: string): PathGetter {
    let p = this.paths.get(path);
    if (!p) {
      p = compilePath(path);
      this.paths.set(path, p);
    }
    return p;
  }

  // ---- statements ----

  protected list(list: ListNode, tree: Tree): Stmt {
    const stmts = list.nodes.map((n) => this.node(n, tree));
    if (stmts.length === 0) return NOOP;
    if (stmts.length === 1) return stmts[0] as Stmt;
    if (stmts.length === 2) {
      const [a, b] = stmts as [Stmt, Stmt];
      return (st, dot) => a(st, dot) || b(st, dot);
    }
    const n = stmts.length;
    return (st, dot) => {
      for (let i = 0; i < n; i++) {
        const r = (stmts[i] as Stmt)(st, dot);
        if (r !== 0) return r;
      }
      return 0;
    };
  }

  protected node(node: Node, tree: Tree): Stmt {
    const site = this.site(node, tree);
    switch (node.type) {
      case 'list':
        return this.list(node, tree);
      case 'text': {
        const text = node.text;
        return (st) => {
          if (++st.steps > st.maxSteps) overSteps(st, site);
          write(st, text, site);
          return 0;
        };
      }
      case 'action': {
        const direct = this.printPath(node.pipe, site);
        if (direct) return direct;
        const e = this.pipe(node.pipe, tree);
        if (node.pipe.decl.length > 0) {
          return (st, dot) => {
            if (++st.steps > st.maxSteps) overSteps(st, site);
            e(st, dot);
            return 0;
          };
        }
        return (st, dot) => {
          if (++st.steps > st.maxSteps) overSteps(st, site);
          const v = e(st, dot);
          write(st, typeof v === 'string' ? v : printValue(v), site);
          return 0;
        };
      }
      case 'if':
      case 'with': {
        const e = this.pipe(node.pipe, tree);
        const list = this.list(node.list, tree);
        const els = node.elseList ? this.list(node.elseList, tree) : NOOP;
        if (node.type === 'if') {
          return (st, dot) => {
            if (++st.steps > st.maxSteps) overSteps(st, site);
            return isTrue(e(st, dot)) ? list(st, dot) : els(st, dot);
          };
        }
        return (st, dot) => {
          if (++st.steps > st.maxSteps) overSteps(st, site);
          const v = e(st, dot);
          return isTrue(v) ? list(st, v) : els(st, dot);
        };
      }
      case 'range':
        return this.range(node.pipe, node.list, node.elseList, site, tree);
      case 'template':
        return this.templateCall(node.name, node.pipe, site, tree);
      case 'break':
        return () => BREAK;
      case 'continue':
        return () => CONTINUE;
    }
  }

  /** `{{.a.b}}` and `{{$x.a.b}}`, the most common actions, as one closure each. */
  protected printPath(pipe: PipeNode, site: Site): Stmt | null {
    const only = pipe.cmds.length === 1 && pipe.decl.length === 0 ? (pipe.cmds[0] as CommandNode) : null;
    if (!only || only.args.length !== 1) return null;
    const first = only.args[0] as ArgNode;
    if (first.type === 'field') {
      const p = this.path(first.ident.join('.'));
      return (st, dot) => {
        if (++st.steps > st.maxSteps) overSteps(st, site);
        const v = isContainer(dot) ? p.get(dot) : undefined;
        write(st, typeof v === 'string' ? v : dot === st.data ? printJson(v) : printValue(v), site);
        return 0;
      };
    }
    if (first.type === 'variable') {
      const slot = first.slot;
      if (first.ident.length === 1) {
        return (st) => {
          if (++st.steps > st.maxSteps) overSteps(st, site);
          const v = st.vars[slot];
          write(st, v === st.data ? printJson(v) : toText(v), site);
          return 0;
        };
      }
      const p = this.path(first.ident.slice(1).join('.'));
      return (st) => {
        if (++st.steps > st.maxSteps) overSteps(st, site);
        const base = st.vars[slot];
        const v = isContainer(base) ? p.get(base) : undefined;
        write(st, typeof v === 'string' ? v : base === st.data ? printJson(v) : printValue(v), site);
        return 0;
      };
    }
    if (first.type === 'dot') {
      return (st, dot) => {
        if (++st.steps > st.maxSteps) overSteps(st, site);
        write(st, dot === st.data ? printJson(dot) : toText(dot), site);
        return 0;
      };
    }
    return null;
  }

  /** The compiled parts of a `range`: the pipeline, body, else branch, and the slots of `$i, $v :=` (-1 when absent). */
  protected rangeParts(pipe: PipeNode, listNode: ListNode, elseNode: ListNode | null, tree: Tree): { e: Expr; body: Stmt; els: Stmt; elemSlot: number; keySlot: number } {
    const decl = pipe.decl;
    return {
      e: this.pipe(pipe, tree),
      body: this.list(listNode, tree),
      els: elseNode ? this.list(elseNode, tree) : NOOP,
      elemSlot: decl.length > 0 ? (decl[decl.length - 1] as VariableNode).slot : -1,
      keySlot: decl.length > 1 ? (decl[0] as VariableNode).slot : -1,
    };
  }

  protected range(pipe: PipeNode, listNode: ListNode, elseNode: ListNode | null, site: Site, tree: Tree): Stmt {
    const { e, body, els, elemSlot, keySlot } = this.rangeParts(pipe, listNode, elseNode, tree);
    return (st, dot) => {
      if (++st.steps > st.maxSteps) overSteps(st, site);
      const val = e(st, dot);
      if (Array.isArray(val)) {
        const n = val.length;
        if (n === 0) return els(st, dot);
        for (let i = 0; i < n; i++) {
          if (++st.steps > st.maxSteps) overSteps(st, site);
          const elem = val[i];
          if (elemSlot >= 0) st.vars[elemSlot] = elem;
          if (keySlot >= 0) st.vars[keySlot] = i;
          if (body(st, elem) === BREAK) break;
        }
        return 0;
      }
      if (val === undefined || val === null) return els(st, dot);
      if (isContainer(val)) {
        const keys = Object.keys(val);
        if (keys.length === 0) return els(st, dot);
        for (const key of keys) {
          if (++st.steps > st.maxSteps) overSteps(st, site);
          const elem = val[key];
          if (elemSlot >= 0) st.vars[elemSlot] = elem;
          if (keySlot >= 0) st.vars[keySlot] = key;
          if (body(st, elem) === BREAK) break;
        }
        return 0;
      }
      if (typeof val === 'number' && Number.isInteger(val)) {
        if (keySlot >= 0) raise(site, `can't use ${printValue(val)} to iterate over more than one variable`);
        if (val <= 0) return els(st, dot);
        for (let i = 0; i < val; i++) {
          if (++st.steps > st.maxSteps) overSteps(st, site);
          if (elemSlot >= 0) st.vars[elemSlot] = i;
          if (body(st, i) === BREAK) break;
        }
        return 0;
      }
      if (typeof val === 'string') {
        if (val === '') return els(st, dot);
        let offset = 0;
        for (const ch of val) {
          if (++st.steps > st.maxSteps) overSteps(st, site);
          if (elemSlot >= 0) st.vars[elemSlot] = ch;
          if (keySlot >= 0) st.vars[keySlot] = offset;
          offset += utf8Width(ch.codePointAt(0) ?? 0);
          if (body(st, ch) === BREAK) break;
        }
        return 0;
      }
      raise(site, `range can't iterate over ${toText(val)}`);
    };
  }

  protected templateCall(name: string, pipe: PipeNode | null, site: Site, tree: Tree): Stmt {
    const target = this.linked.get(name);
    const e = pipe ? this.pipe(pipe, tree) : null;
    if (!target) {
      return (st, dot) => {
        if (e) e(st, dot);
        raise(site, `template ${goQuote(name)} not defined`);
      };
    }
    return (st, dot) => {
      if (++st.steps > st.maxSteps) overSteps(st, site);
      if (st.depth >= MAX_TEMPLATE_DEPTH) raise(site, `exceeded maximum template depth (${MAX_TEMPLATE_DEPTH})`);
      const d = e ? e(st, dot) : undefined;
      const saved = st.vars;
      const frame = new Array<TemplateValue>(target.slotCount);
      frame[0] = d;
      st.vars = frame;
      st.depth++;
      target.body(st, d);
      st.depth--;
      st.vars = saved;
      return 0;
    };
  }

  // ---- expressions ----

  protected pipe(pipe: PipeNode, tree: Tree): Expr {
    const cmds = pipe.cmds.map((c, i) => this.command(c, i > 0, tree));
    let e: Expr;
    if (cmds.length === 1) {
      e = cmds[0] as Cmd;
    } else {
      const n = cmds.length;
      const first = cmds[0] as Cmd;
      e = (st, dot) => {
        let v = first(st, dot);
        for (let i = 1; i < n; i++) v = (cmds[i] as Cmd)(st, dot, v);
        return v;
      };
    }
    const decl = pipe.decl;
    if (decl.length === 0) return e;
    const bad = decl.find((v) => v.undeclared);
    if (bad) {
      const site = this.site(bad, tree);
      return (st, dot) => {
        e(st, dot);
        raise(site, `undefined variable: ${bad.ident[0] ?? ''}`);
      };
    }
    const s0 = (decl[0] as VariableNode).slot;
    if (decl.length === 1) {
      return (st, dot) => {
        const v = e(st, dot);
        st.vars[s0] = v;
        return v;
      };
    }
    const s1 = (decl[1] as VariableNode).slot;
    return (st, dot) => {
      const v = e(st, dot);
      st.vars[s0] = v;
      st.vars[s1] = v;
      return v;
    };
  }

  protected thrower(site: Site, detail: string): Cmd {
    return () => raise(site, detail);
  }

  protected getter(path: string[]): (v: TemplateValue) => TemplateValue {
    const p = this.path(path.join('.'));
    return (v) => (isContainer(v) ? p.get(v) : undefined);
  }

  protected command(cmd: CommandNode, hasFinal: boolean, tree: Tree): Cmd {
    const first = cmd.args[0] as ArgNode;
    const extra = cmd.args.length > 1 || hasFinal;
    const site = this.site(first, tree);
    switch (first.type) {
      case 'field': {
        if (extra) return this.thrower(site, `${first.ident[first.ident.length - 1] ?? ''} is not a method but has arguments`);
        return this.field(first.ident);
      }
      case 'chain': {
        if (extra) return this.thrower(site, `${first.field[first.field.length - 1] ?? ''} is not a method but has arguments`);
        return this.arg(first, tree);
      }
      case 'identifier':
        return this.call(first, cmd.args.slice(1), hasFinal, cmd, tree);
      case 'pipe':
        if (extra) return this.thrower(site, `can't give argument to non-function ${nodeString(first)}`);
        return this.pipe(first, tree);
      case 'variable':
        if (extra) {
          return this.thrower(
            site,
            first.ident.length === 1 ? `can't give argument to non-function ${nodeString(first)}` : `${first.ident[first.ident.length - 1] ?? ''} is not a method but has arguments`,
          );
        }
        return this.arg(first, tree);
      case 'string':
        if (first.raw) {
          // gjson_template: a raw string heading a command is a GJSON path on dot.
          if (extra) return this.thrower(site, `gjson path ${goQuote(first.text)} is not a method but has arguments`);
          const p = this.path(first.text);
          return (_st, dot) => (isJson(dot) ? p.get(dot) : undefined);
        }
        break;
      case 'nil':
        if (!extra) return this.thrower(site, 'nil is not a command');
        break;
    }
    if (extra) return this.thrower(site, `can't give argument to non-function ${nodeString(first)}`);
    return this.arg(first, tree);
  }

  protected field(ident: string[]): Expr {
    const p = this.path(ident.join('.'));
    return (_st, dot) => (isContainer(dot) ? p.get(dot) : undefined);
  }

  protected arg(node: ArgNode, tree: Tree): Expr {
    switch (node.type) {
      case 'dot':
        return (_st, dot) => dot;
      case 'nil':
        return () => null;
      case 'bool':
      case 'number': {
        const v = node.value;
        return () => v;
      }
      case 'string': {
        const v = node.text;
        return () => v;
      }
      case 'field':
        return this.field(node.ident);
      case 'variable': {
        const slot = node.slot;
        if (node.ident.length === 1) return (st) => st.vars[slot];
        const get = this.getter(node.ident.slice(1));
        return (st) => get(st.vars[slot]);
      }
      case 'pipe':
        return this.pipe(node, tree);
      case 'identifier':
        return this.call(node, [], false, node, tree);
      case 'chain': {
        const base = this.arg(node.node, tree);
        const get = this.getter(node.field);
        return (st, dot) => get(base(st, dot));
      }
    }
  }

  protected call(id: IdentifierNode, argNodes: ArgNode[], hasFinal: boolean, cmd: CommandNode | IdentifierNode, tree: Tree): Cmd {
    const name = id.ident;
    const site = this.site(cmd, tree);
    const idSite = this.site(id, tree);
    const count = argNodes.length + (hasFinal ? 1 : 0);
    const args = argNodes.map((a) => this.arg(a, tree));

    if (name === 'and' || name === 'or') {
      if (count === 0) return this.thrower(idSite, `wrong number of args for ${name}: want at least 1 got 0`);
      const stopOn = name === 'or';
      const n = args.length;
      return (st, dot, final) => {
        if (++st.steps > st.maxSteps) overSteps(st, site);
        let v: TemplateValue;
        for (let i = 0; i < n; i++) {
          v = (args[i] as Expr)(st, dot);
          if (isTrue(v) === stopOn) return v;
        }
        return hasFinal ? final : v;
      };
    }

    if (name === 'gjson') {
      if (count !== 1) return this.thrower(idSite, `wrong number of args for gjson: want 1 got ${count}`);
      const only = argNodes[0];
      if (only && only.type === 'string') {
        const p = this.path(only.text);
        return (st, dot) => {
          if (++st.steps > st.maxSteps) overSteps(st, site);
          return isJson(dot) ? p.get(dot) : undefined;
        };
      }
      const a = args[0];
      return (st, dot, final) => {
        if (++st.steps > st.maxSteps) overSteps(st, site);
        const path = a ? a(st, dot) : final;
        if (typeof path !== 'string') raise(site, 'gjson requires a string path argument');
        return isJson(dot) ? gjsonGet(dot, path) : undefined;
      };
    }

    const ofClient = CLIENT_FUNCTIONS.get(name);
    if (ofClient) {
      if (count !== 0) return this.thrower(idSite, `wrong number of args for ${name}: want 0 got ${count}`);
      return (st) => {
        if (++st.steps > st.maxSteps) overSteps(st, site);
        return ofClient(st.client);
      };
    }

    const found = FUNCTIONS.get(name);
    if (!found) return this.thrower(idSite, `${goQuote(name)} is not a defined function`);
    const fn: TemplateFunction = found;
    const [a0, a1, a2] = args;
    switch (args.length) {
      case 0:
        if (!hasFinal) {
          return (st) => {
            if (++st.steps > st.maxSteps) overSteps(st, site);
            try {
              return fn();
            } catch (e) {
              return callFailed(e, name, site, idSite);
            }
          };
        }
        return (st, _dot, final) => {
          if (++st.steps > st.maxSteps) overSteps(st, site);
          try {
            return fn(final);
          } catch (e) {
            return callFailed(e, name, site, idSite);
          }
        };
      case 1: {
        const e0 = a0 as Expr;
        if (!hasFinal) {
          return (st, dot) => {
            if (++st.steps > st.maxSteps) overSteps(st, site);
            const x = e0(st, dot);
            try {
              return fn(x);
            } catch (e) {
              return callFailed(e, name, site, idSite);
            }
          };
        }
        return (st, dot, final) => {
          if (++st.steps > st.maxSteps) overSteps(st, site);
          const x = e0(st, dot);
          try {
            return fn(x, final);
          } catch (e) {
            return callFailed(e, name, site, idSite);
          }
        };
      }
      case 2: {
        const e0 = a0 as Expr;
        const e1 = a1 as Expr;
        if (!hasFinal) {
          return (st, dot) => {
            if (++st.steps > st.maxSteps) overSteps(st, site);
            const x = e0(st, dot);
            const y = e1(st, dot);
            try {
              return fn(x, y);
            } catch (e) {
              return callFailed(e, name, site, idSite);
            }
          };
        }
        break;
      }
      case 3: {
        const e0 = a0 as Expr;
        const e1 = a1 as Expr;
        const e2 = a2 as Expr;
        if (!hasFinal) {
          return (st, dot) => {
            if (++st.steps > st.maxSteps) overSteps(st, site);
            const x = e0(st, dot);
            const y = e1(st, dot);
            const z = e2(st, dot);
            try {
              return fn(x, y, z);
            } catch (e) {
              return callFailed(e, name, site, idSite);
            }
          };
        }
        break;
      }
    }
    const n = args.length;
    return (st, dot, final) => {
      if (++st.steps > st.maxSteps) overSteps(st, site);
      const values = new Array<TemplateValue>(hasFinal ? n + 1 : n);
      for (let i = 0; i < n; i++) values[i] = (args[i] as Expr)(st, dot);
      if (hasFinal) values[n] = final;
      try {
        return fn(...values);
      } catch (e) {
        return callFailed(e, name, site, idSite);
      }
    };
  }
}

/** Whether a template may call this function (unknown names are parse errors). */
export function hasFunction(name: string): boolean {
  return SPECIAL_FORMS.has(name) || FUNCTIONS.has(name) || CLIENT_FUNCTIONS.has(name);
}

/** Compile parsed trees into a render function. */
export function compile(parsed: ParsedSource, source: string): CompiledRender {
  return new Compiler(parsed, source).compile();
}
