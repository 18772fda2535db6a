/**
 * The parse tree of a template, shaped like Go's text/template/parse nodes. `pos` is the
 * offset of the node in the source (UTF-16 code units); line and column are derived from
 * it only when an error is reported.
 */

import { goQuote } from './lexer.js';

/** A statement-level node: what a list of the template body holds. */
export type Node = ListNode | TextNode | ActionNode | IfNode | RangeNode | WithNode | TemplateNode | BreakNode | ContinueNode;

/** A node that can appear as a word of a command. */
export type ArgNode =
  | FieldNode
  | VariableNode
  | ChainNode
  | IdentifierNode
  | DotNode
  | NilNode
  | BoolNode
  | NumberNode
  | StringNode
  | PipeNode;

/** A sequence of nodes. */
export interface ListNode {
  readonly type: 'list';
  readonly pos: number;
  readonly nodes: Node[];
}

/** Plain text, already trimmed by `{{-` / `-}}` markers. */
export interface TextNode {
  readonly type: 'text';
  readonly pos: number;
  readonly text: string;
}

/** A non-control action such as `{{.a.b}}` or `{{$x := 1}}`. */
export interface ActionNode {
  readonly type: 'action';
  readonly pos: number;
  readonly pipe: PipeNode;
}

interface BranchFields {
  readonly pos: number;
  readonly pipe: PipeNode;
  readonly list: ListNode;
  readonly elseList: ListNode | null;
}

/** `{{if pipeline}} list {{else}} elseList {{end}}`. */
export interface IfNode extends BranchFields {
  readonly type: 'if';
}

/** `{{range pipeline}} list {{else}} elseList {{end}}`. */
export interface RangeNode extends BranchFields {
  readonly type: 'range';
}

/** `{{with pipeline}} list {{else}} elseList {{end}}`. */
export interface WithNode extends BranchFields {
  readonly type: 'with';
}

/** `{{template "name" pipeline}}` (also what `{{block}}` leaves in place). */
export interface TemplateNode {
  readonly type: 'template';
  readonly pos: number;
  readonly name: string;
  readonly pipe: PipeNode | null;
}

/** `{{break}}` inside a range. */
export interface BreakNode {
  readonly type: 'break';
  readonly pos: number;
}

/** `{{continue}}` inside a range. */
export interface ContinueNode {
  readonly type: 'continue';
  readonly pos: number;
}

/** A pipeline with optional variable declarations or assignments. */
export interface PipeNode {
  readonly type: 'pipe';
  readonly pos: number;
  isAssign: boolean;
  readonly decl: VariableNode[];
  readonly cmds: CommandNode[];
}

/** One stage of a pipeline: a function, field or literal with its arguments. */
export interface CommandNode {
  readonly type: 'command';
  readonly pos: number;
  readonly args: ArgNode[];
}

/** A field chain on dot, `.a.b` (idents without the dots). */
export interface FieldNode {
  readonly type: 'field';
  readonly pos: number;
  readonly ident: string[];
}

/**
 * A variable, possibly followed by fields: `$x.a.b` has ident `["$x", "a", "b"]`.
 * `slot` is the variable's index in its template's frame, resolved at parse time.
 */
export interface VariableNode {
  readonly type: 'variable';
  readonly pos: number;
  readonly ident: string[];
  readonly slot: number;
  /** Set on `$x = …` when no `$x` was declared: Go reports this when it executes. */
  readonly undeclared?: boolean;
}

/** A term followed by fields, e.g. `(index .a 0).b`. */
export interface ChainNode {
  readonly type: 'chain';
  readonly pos: number;
  readonly node: ArgNode;
  readonly field: string[];
}

/** A function name. */
export interface IdentifierNode {
  readonly type: 'identifier';
  readonly pos: number;
  readonly ident: string;
}

/** The cursor `.`. */
export interface DotNode {
  readonly type: 'dot';
  readonly pos: number;
}

/** The untyped `nil`. */
export interface NilNode {
  readonly type: 'nil';
  readonly pos: number;
}

/** `true` or `false`. */
export interface BoolNode {
  readonly type: 'bool';
  readonly pos: number;
  readonly value: boolean;
}

/** A number or character constant, with its source text. */
export interface NumberNode {
  readonly type: 'number';
  readonly pos: number;
  readonly text: string;
  readonly value: number;
}

/** A quoted or raw string constant; `text` is the unquoted value. */
export interface StringNode {
  readonly type: 'string';
  readonly pos: number;
  readonly quoted: string;
  readonly text: string;
  readonly raw: boolean;
}

/** One named template: the top-level body or a `define` / `block`. */
export interface Tree {
  readonly name: string;
  readonly root: ListNode;
  /** Number of variable slots in the frame (slot 0 is `$`). */
  readonly slotCount: number;
}

/** Go's `String()` of a node: the canonical source form used in error contexts. */
export function nodeString(node: Node | ArgNode | CommandNode): string {
  switch (node.type) {
    case 'list':
      return node.nodes.map(nodeString).join('');
    case 'text':
      return node.text;
    case 'action':
      return `{{${nodeString(node.pipe)}}}`;
    case 'if':
    case 'range':
    case 'with':
      return (
        `{{${node.type} ${nodeString(node.pipe)}}}${nodeString(node.list)}` +
        (node.elseList ? `{{else}}${nodeString(node.elseList)}` : '') +
        '{{end}}'
      );
    case 'template':
      return `{{template ${goQuote(node.name)}${node.pipe ? ' ' + nodeString(node.pipe) : ''}}}`;
    case 'break':
      return '{{break}}';
    case 'continue':
      return '{{continue}}';
    case 'pipe': {
      const decl = node.decl.length > 0 ? node.decl.map(nodeString).join(', ') + (node.isAssign ? ' = ' : ' := ') : '';
      return decl + node.cmds.map(nodeString).join(' | ');
    }
    case 'command':
      return node.args.map((a) => (a.type === 'pipe' ? `(${nodeString(a)})` : nodeString(a))).join(' ');
    case 'field':
      return node.ident.map((i) => '.' + i).join('');
    case 'variable':
      return node.ident.join('.');
    case 'chain':
      return (node.node.type === 'pipe' ? `(${nodeString(node.node)})` : nodeString(node.node)) + node.field.map((f) => '.' + f).join('');
    case 'identifier':
      return node.ident;
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'bool':
      return node.value ? 'true' : 'false';
    case 'number':
      return node.text;
    case 'string':
      return node.quoted;
  }
}
