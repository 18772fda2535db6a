/**
 * Taint tracking: a second compilation of a template whose render also tells which parts of
 * the output were computed from an untrusted part of the data (a designated top-level key,
 * such as `args`). Taint follows values through field chains, variables, dot (`with`, `range`,
 * `template`), pipelines and function calls; the output of a designated escaping function
 * (such as `urlquery`) is reported as escaped by it rather than raw. Control flow does not
 * taint: text that a condition on untrusted data selects is the template's own text.
 *
 * The plain closures of exec.ts are untouched: only a template parsed with `taint` options
 * gets this compilation besides its plain one.
 */
import type { ArgNode, CommandNode, IdentifierNode, ListNode, Node, PipeNode, Tree } from './ast.js';
import { BREAK, Compiler, MAX_TEMPLATE_DEPTH, NOOP, callFailed, isContainer, isJson, overSteps, raise, toText, utf8Width, write } from './exec.js';
import type { Cmd, Expr, Site, State, Stmt } from './exec.js';
import { CLIENT_FUNCTIONS, FUNCTIONS, isTrue, printValue } from './functions/index.js';
import type { RenderClient } from './functions/index.js';
import { gjsonGet } from './gjson/gjson.js';
import type { ParsedSource } from './parser.js';
import type { TemplateValue } from './values.js';

/** What a tracking render follows. */
export interface TaintOptions {
  /** The top-level key of the data that holds untrusted values, e.g. `args`. */
  readonly root: string;
  /** Functions whose output is reported as escaped by them (`escapedBy`) instead of raw, e.g. `urlquery`. */
  readonly escapers?: readonly string[];
}

/** Where a value or a piece of output came from, when it depends on untrusted data. */
export interface Taint {
  /**
   * The keys of the untrusted root it was computed from (`['host']` for `.args.host`), or null
   * when it may depend on any of them (`.args` as a whole, `index .args $k`, the root itself).
   */
  readonly keys: readonly string[] | null;
  /** Set when the value is the direct output of this escaping function applied to untrusted data. */
  readonly escapedBy?: string;
}

/** A stretch of output: text, with its taint when it was printed from untrusted data. */
export interface OutputPiece {
  readonly text: string;
  readonly taint?: Taint;
}

/** The output of a tracking render: the whole text and the same text as pieces, in order. */
export interface TrackedOutput {
  readonly text: string;
  /**
   * Untainted text is merged into one piece between tainted ones. Every print of a tainted value
   * is a piece of its own, also when it printed nothing (a missing or empty argument), so that a
   * caller sees where an argument was placed.
   */
  readonly pieces: readonly OutputPiece[];
}

/** A compiled tracking render. */
export type CompiledTrackedRender = (data: TemplateValue, maxOutputBytes: number, maxSteps: number, client?: RenderClient) => TrackedOutput;

/** Sprig functions that change their dict argument in place. */
const MUTATING: ReadonlySet<string> = new Set(['set', 'unset']);

/** Depends on every key of the untrusted root. */
const ANY: Taint = { keys: null };

interface Track {
  /** Taint of the value the last expression returned. */
  t: Taint | undefined;
  /** Taint of dot. */
  dt: Taint | undefined;
  /** Taints of the variables of the executing template's frame. */
  vt: (Taint | undefined)[];
  /** Untrusted data written into the data by `set`/`unset`: every later field read carries it. */
  mt: Taint | undefined;
  /** Tainted stretches of the output: start, end, taint. */
  readonly spans: (number | Taint)[];
  /** The data's untrusted object (only a container: identity is what is compared). */
  readonly untrusted: object | undefined;
}

/** How a path read is tainted: from the root data, and from the untrusted object itself. */
interface PathTaint {
  readonly fromRoot: Taint | undefined;
  readonly fromUntrusted: Taint;
}

function raw(t: Taint | undefined): Taint | undefined {
  return t?.escapedBy === undefined ? t : { keys: t.keys };
}

/** The union of two taints, as raw (escaping applies to one value, not to what is computed from it). */
export function unionTaint(a: Taint | undefined, b: Taint | undefined): Taint | undefined {
  if (a === undefined) return raw(b);
  if (b === undefined || a === b) return raw(a);
  if (a.keys === null || b.keys === null) return ANY;
  const keys = [...a.keys];
  for (const k of b.keys) if (!keys.includes(k)) keys.push(k);
  return { keys };
}

const PLAIN_KEY = /^[^\\|#@*?![\]{}().,:]+$/;

/** The first key of a GJSON path and the rest, when the first component is a plain key. */
function firstKey(path: string): { key: string; rest: string } | undefined {
  let end = path.length;
  for (let i = 0; i < path.length; i++) {
    const c = path[i];
    if (c === '.' || c === '|') {
      end = i;
      break;
    }
  }
  const key = path.slice(0, end);
  if (!PLAIN_KEY.test(key)) return undefined;
  return { key, rest: end < path.length ? path.slice(end + 1) : '' };
}

/**
 * The taint of what a GJSON path reads from the root data and from the untrusted object. Only
 * the leading components matter: once a path has descended into a key, nothing after it (more
 * keys, queries, modifiers, multipaths, `|`) reads outside that key's value.
 */
function analysePath(path: string, root: string): PathTaint {
  const head = firstKey(path);
  const fromUntrusted: Taint = head ? { keys: [head.key] } : ANY;
  if (!head) return { fromRoot: ANY, fromUntrusted };
  if (head.key !== root) return { fromRoot: undefined, fromUntrusted };
  const next = head.rest === '' ? undefined : firstKey(head.rest);
  return { fromRoot: next ? { keys: [next.key] } : ANY, fromUntrusted };
}

function trackOf(st: State): Track {
  return st.track as Track;
}

/** The taint of a path read on `base`, whose own taint is `baseTaint`. */
function readTaint(st: State, tr: Track, base: TemplateValue, baseTaint: Taint | undefined, p: PathTaint): Taint | undefined {
  let t: Taint | undefined;
  if (base === st.data) t = p.fromRoot;
  else if (tr.untrusted !== undefined && base === tr.untrusted) t = p.fromUntrusted;
  else t = raw(baseTaint);
  return tr.mt === undefined ? t : unionTaint(t, tr.mt);
}

/** Records `text` as printed from a value of taint `t`. */
function print(st: State, tr: Track, text: string, t: Taint | undefined, site: Site): void {
  const start = st.out.length;
  write(st, text, site);
  if (t !== undefined) tr.spans.push(start, st.out.length, t);
}

function pieces(out: string, spans: readonly (number | Taint)[]): OutputPiece[] {
  const result: OutputPiece[] = [];
  let at = 0;
  for (let i = 0; i < spans.length; i += 3) {
    const start = spans[i] as number;
    const end = spans[i + 1] as number;
    if (start > at) result.push({ text: out.slice(at, start) });
    result.push({ text: out.slice(start, end), taint: spans[i + 2] as Taint });
    at = end;
  }
  if (at < out.length) result.push({ text: out.slice(at) });
  return result;
}

/** The compiler of tracking renders: the plain compiler with the closures that follow taint. */
class TrackingCompiler extends Compiler {
  private readonly root: string;
  private readonly escapers: ReadonlySet<string>;
  private readonly pathTaints = new Map<string, PathTaint>();

  constructor(parsed: ParsedSource, source: string, options: TaintOptions) {
    super(parsed, source);
    this.root = options.root;
    this.escapers = new Set(options.escapers ?? []);
  }

  compileTracked(): CompiledTrackedRender {
    const root = this.root;
    const run = this.runner((data): Track => {
      const untrusted = isContainer(data) && !Array.isArray(data) && Object.hasOwn(data, root) ? data[root] : undefined;
      const rootTaint = isContainer(data) ? ANY : undefined;
      return { t: undefined, dt: rootTaint, vt: [rootTaint], mt: undefined, spans: [], untrusted: isContainer(untrusted) ? untrusted : undefined };
    });
    return (data, maxOutputBytes, maxSteps, client) => {
      const st = run(data, maxOutputBytes, maxSteps, client);
      return { text: st.out, pieces: pieces(st.out, trackOf(st).spans) };
    };
  }

  private taintOf(path: string): PathTaint {
    let p = this.pathTaints.get(path);
    if (!p) {
      p = analysePath(path, this.root);
      this.pathTaints.set(path, p);
    }
    return p;
  }

  protected override node(node: Node, tree: Tree): Stmt {
    if (node.type === 'action' && node.pipe.decl.length === 0) {
      const site = this.site(node, tree);
      const e = this.pipe(node.pipe, tree);
      return (st, dot) => {
        if (++st.steps > st.maxSteps) overSteps(st, site);
        const v = e(st, dot);
        const tr = trackOf(st);
        print(st, tr, typeof v === 'string' ? v : printValue(v), tr.t, site);
        return 0;
      };
    }
    if (node.type === 'with') {
      const site = this.site(node, tree);
      const e = this.pipe(node.pipe, tree);
      const list = this.list(node.list, tree);
      const els = node.elseList ? this.list(node.elseList, tree) : NOOP;
      return (st, dot) => {
        if (++st.steps > st.maxSteps) overSteps(st, site);
        const v = e(st, dot);
        if (!isTrue(v)) return els(st, dot);
        const tr = trackOf(st);
        const saved = tr.dt;
        tr.dt = tr.t;
        const r = list(st, v);
        tr.dt = saved;
        return r;
      };
    }
    return super.node(node, tree);
  }

  protected override printPath(): Stmt | null {
    return null;
  }

  protected override range(pipe: PipeNode, listNode: ListNode, elseNode: ListNode | null, site: Site, tree: Tree): Stmt {
    const { e, body, els, elemSlot, keySlot } = this.rangeParts(pipe, listNode, elseNode, tree);
    return (st, dot) => {
      if (++st.steps > st.maxSteps) overSteps(st, site);
      const val = e(st, dot);
      const tr = trackOf(st);
      const valTaint = raw(tr.t);
      const savedDot = tr.dt;
      // One element: its value, taint and key (index) with its taint; answers BREAK to stop.
      const each = (elem: TemplateValue, elemTaint: Taint | undefined, key: TemplateValue, keyTaint: Taint | undefined): number => {
        if (++st.steps > st.maxSteps) overSteps(st, site);
        if (elemSlot >= 0) {
          st.vars[elemSlot] = elem;
          tr.vt[elemSlot] = elemTaint;
        }
        if (keySlot >= 0) {
          st.vars[keySlot] = key;
          tr.vt[keySlot] = keyTaint;
        }
        tr.dt = elemTaint;
        const r = body(st, elem);
        tr.dt = savedDot;
        return r;
      };
      if (Array.isArray(val)) {
        if (val.length === 0) return els(st, dot);
        for (let i = 0; i < val.length; i++) if (each(val[i], valTaint, i, valTaint) === BREAK) break;
        return 0;
      }
      if (val === undefined || val === null) return els(st, dot);
      if (isContainer(val)) {
        const keys = Object.keys(val);
        if (keys.length === 0) return els(st, dot);
        const isRoot = val === st.data;
        const isUntrusted = tr.untrusted !== undefined && val === tr.untrusted;
        for (const key of keys) {
          let elemTaint = valTaint;
          let keyTaint = valTaint;
          if (isRoot) {
            elemTaint = key === this.root ? ANY : undefined;
            keyTaint = undefined;
          } else if (isUntrusted) {
            elemTaint = { keys: [key] };
            keyTaint = elemTaint;
          }
          if (tr.mt !== undefined) elemTaint = unionTaint(elemTaint, tr.mt);
          if (each(val[key], elemTaint, key, keyTaint) === BREAK) break;
        }
        return 0;
      }
      if (typeof val === 'number' && Number.isInteger(val)) {
        if (keySlot >= 0) raise(site, `can't use ${printValue(val)} to iterate over more than one variable`);
        if (val <= 0) return els(st, dot);
        for (let i = 0; i < val; i++) if (each(i, valTaint, undefined, undefined) === BREAK) break;
        return 0;
      }
      if (typeof val === 'string') {
        if (val === '') return els(st, dot);
        let offset = 0;
        for (const ch of val) {
          const at = offset;
          offset += utf8Width(ch.codePointAt(0) ?? 0);
          if (each(ch, valTaint, at, valTaint) === BREAK) break;
        }
        return 0;
      }
      raise(site, `range can't iterate over ${toText(val)}`);
    };
  }

  protected override templateCall(name: string, pipe: PipeNode | null, site: Site, tree: Tree): Stmt {
    const target = this.linked.get(name);
    if (!target) return super.templateCall(name, pipe, site, tree);
    const e = pipe ? this.pipe(pipe, tree) : null;
    return (st, dot) => {
      if (++st.steps > st.maxSteps) overSteps(st, site);
      if (st.depth >= MAX_TEMPLATE_DEPTH) raise(site, `exceeded maximum template depth (${MAX_TEMPLATE_DEPTH})`);
      const tr = trackOf(st);
      const d = e ? e(st, dot) : undefined;
      const dTaint = e ? tr.t : undefined;
      const saved = st.vars;
      const savedTaints = tr.vt;
      const savedDot = tr.dt;
      const frame = new Array<TemplateValue>(target.slotCount);
      frame[0] = d;
      st.vars = frame;
      tr.vt = [dTaint];
      tr.dt = dTaint;
      st.depth++;
      target.body(st, d);
      st.depth--;
      st.vars = saved;
      tr.vt = savedTaints;
      tr.dt = savedDot;
      return 0;
    };
  }

  protected override pipe(pipe: PipeNode, tree: Tree): Expr {
    const decl = pipe.decl;
    if (decl.length === 0 || decl.some((v) => v.undeclared)) return super.pipe(pipe, tree);
    const plain = super.pipe({ ...pipe, decl: [] }, tree);
    const slots = decl.map((v) => v.slot);
    return (st, dot) => {
      const v = plain(st, dot);
      const tr = trackOf(st);
      for (const s of slots) {
        st.vars[s] = v;
        tr.vt[s] = tr.t;
      }
      return v;
    };
  }

  protected override command(cmd: CommandNode, hasFinal: boolean, tree: Tree): Cmd {
    const first = cmd.args[0] as ArgNode;
    if (first.type === 'string' && first.raw && cmd.args.length === 1 && !hasFinal) {
      // gjson_template: a raw string heading a command is a GJSON path on dot.
      const p = this.path(first.text);
      const pt = this.taintOf(first.text);
      return (st, dot) => {
        const tr = trackOf(st);
        tr.t = readTaint(st, tr, dot, tr.dt, pt);
        return isJson(dot) ? p.get(dot) : undefined;
      };
    }
    return super.command(cmd, hasFinal, tree);
  }

  protected override field(ident: string[]): Expr {
    const path = ident.join('.');
    const p = this.path(path);
    const pt = this.taintOf(path);
    return (st, dot) => {
      const tr = trackOf(st);
      tr.t = readTaint(st, tr, dot, tr.dt, pt);
      return isContainer(dot) ? p.get(dot) : undefined;
    };
  }

  protected override arg(node: ArgNode, tree: Tree): Expr {
    switch (node.type) {
      case 'dot':
        return (st, dot) => {
          const tr = trackOf(st);
          tr.t = tr.dt;
          return dot;
        };
      case 'nil':
      case 'bool':
      case 'number':
      case 'string': {
        const v = node.type === 'nil' ? null : node.type === 'string' ? node.text : node.value;
        return (st) => {
          trackOf(st).t = undefined;
          return v;
        };
      }
      case 'variable': {
        const slot = node.slot;
        if (node.ident.length === 1) {
          return (st) => {
            const tr = trackOf(st);
            tr.t = tr.vt[slot];
            return st.vars[slot];
          };
        }
        const path = node.ident.slice(1).join('.');
        const p = this.path(path);
        const pt = this.taintOf(path);
        return (st) => {
          const tr = trackOf(st);
          const base = st.vars[slot];
          tr.t = readTaint(st, tr, base, tr.vt[slot], pt);
          return isContainer(base) ? p.get(base) : undefined;
        };
      }
      case 'chain': {
        const baseExpr = this.arg(node.node, tree);
        const path = node.field.join('.');
        const p = this.path(path);
        const pt = this.taintOf(path);
        return (st, dot) => {
          const base = baseExpr(st, dot);
          const tr = trackOf(st);
          tr.t = readTaint(st, tr, base, tr.t, pt);
          return isContainer(base) ? p.get(base) : undefined;
        };
      }
      default:
        return super.arg(node, tree);
    }
  }

  protected override call(id: IdentifierNode, argNodes: ArgNode[], hasFinal: boolean, cmd: CommandNode | IdentifierNode, tree: Tree): Cmd {
    const name = id.ident;
    const site = this.site(cmd, tree);
    const idSite = this.site(id, tree);
    const count = argNodes.length + (hasFinal ? 1 : 0);
    const args = argNodes.map((a) => this.arg(a, tree));
    const n = args.length;

    if (name === 'and' || name === 'or') {
      if (count === 0) return super.call(id, argNodes, hasFinal, cmd, tree);
      const stopOn = name === 'or';
      return (st, dot, final) => {
        const tr = trackOf(st);
        const finalTaint = tr.t;
        if (++st.steps > st.maxSteps) overSteps(st, site);
        let v: TemplateValue;
        for (let i = 0; i < n; i++) {
          v = (args[i] as Expr)(st, dot);
          if (isTrue(v) === stopOn) return v;
        }
        if (!hasFinal) return v;
        tr.t = finalTaint;
        return final;
      };
    }

    if (name === 'gjson') {
      if (count !== 1) return super.call(id, argNodes, hasFinal, cmd, tree);
      const only = argNodes[0];
      if (only && only.type === 'string') {
        const p = this.path(only.text);
        const pt = this.taintOf(only.text);
        return (st, dot) => {
          if (++st.steps > st.maxSteps) overSteps(st, site);
          const tr = trackOf(st);
          tr.t = readTaint(st, tr, dot, tr.dt, pt);
          return isJson(dot) ? p.get(dot) : undefined;
        };
      }
      const a = args[0];
      return (st, dot, final) => {
        if (++st.steps > st.maxSteps) overSteps(st, site);
        const tr = trackOf(st);
        let pathTaint = tr.t;
        const path = a ? a(st, dot) : final;
        if (a) pathTaint = tr.t;
        if (typeof path !== 'string') raise(site, 'gjson requires a string path argument');
        tr.t = unionTaint(readTaint(st, tr, dot, tr.dt, this.taintOf(path)), pathTaint);
        return isJson(dot) ? gjsonGet(dot, path) : undefined;
      };
    }

    if (CLIENT_FUNCTIONS.has(name)) {
      // An IP literal of the agent's connection (client.ts checks it is one): printed as trusted text.
      const run = super.call(id, argNodes, hasFinal, cmd, tree);
      return (st, dot, final) => {
        const v = run(st, dot, final);
        trackOf(st).t = undefined;
        return v;
      };
    }
    const fn = FUNCTIONS.get(name);
    if (!fn) return super.call(id, argNodes, hasFinal, cmd, tree);
    const escaper = this.escapers.has(name) ? name : undefined;
    const mutating = MUTATING.has(name);
    // `index .args "Content-Type"` reads one argument, as `.args.x` does for names that are identifiers.
    const indexesArgument = name === 'index' && n === 2 && !hasFinal;
    return (st, dot, final) => {
      const tr = trackOf(st);
      let t = hasFinal ? raw(tr.t) : undefined;
      let restTaint: Taint | undefined;
      if (++st.steps > st.maxSteps) overSteps(st, site);
      const values = new Array<TemplateValue>(hasFinal ? n + 1 : n);
      for (let i = 0; i < n; i++) {
        values[i] = (args[i] as Expr)(st, dot);
        if (tr.t !== undefined) {
          t = unionTaint(t, tr.t);
          if (i > 0) restTaint = tr.t;
        }
      }
      if (hasFinal) values[n] = final;
      let v: TemplateValue;
      try {
        v = fn(...values);
      } catch (e) {
        return callFailed(e, name, site, idSite);
      }
      if (mutating && t !== undefined) tr.mt = unionTaint(tr.mt, t);
      if (indexesArgument && restTaint === undefined && typeof values[1] === 'string' && tr.untrusted !== undefined && values[0] === tr.untrusted) {
        t = tr.mt === undefined ? { keys: [values[1]] } : unionTaint({ keys: [values[1]] }, tr.mt);
      }
      tr.t = escaper !== undefined && t !== undefined ? { keys: t.keys, escapedBy: escaper } : t;
      return v;
    };
  }
}

/** Compiles parsed trees into a tracking render. */
export function compileTracked(parsed: ParsedSource, source: string, options: TaintOptions): CompiledTrackedRender {
  return new TrackingCompiler(parsed, source, options).compileTracked();
}
