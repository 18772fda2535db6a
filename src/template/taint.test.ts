// Taint tracking: which parts of a render's output were printed from the untrusted root
// (`.args`), through variables, dot, pipelines and functions; escapers; and the tracking
// render agreeing with the plain one on the whole conformance corpus.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CORPUS, T } from '../../test/fixtures/template/corpus.cases.js';
import { TemplateError, parse } from './index.js';
import type { JsonValue, OutputPiece, TrackedTemplate } from './index.js';

const TAINT = { root: 'args', escapers: ['urlquery'] } as const;

function data(): JsonValue {
  return {
    args: { host: 'h1', name: '../x', list: ['a', 'b'], n: 2, 'Content-Type': 'text/plain', obj: { k: 'v' } },
    config: { base: 'http://svc', key: 'host', list: ['c'] },
  };
}

function tracked(source: string): TrackedTemplate {
  return parse(source, { name: 'url', taint: TAINT });
}

/** The pieces in a compact form: clean text as is, tainted text as `<text|keys>` (`*` for any key, `~f` when escaped by f). */
function shape(source: string, d: JsonValue = data()): string {
  const out = tracked(source).renderTracked(d);
  assert.equal(out.pieces.map((p) => p.text).join(''), out.text, 'pieces add up to the text');
  return out.pieces.map(show).join('');
}

function show(p: OutputPiece): string {
  if (!p.taint) return p.text;
  const keys = p.taint.keys === null ? '*' : p.taint.keys.join(',');
  return `<${p.text}|${keys}${p.taint.escapedBy ? `~${p.taint.escapedBy}` : ''}>`;
}

describe('taint tracking', () => {
  it('marks text printed from .args with the argument it came from; template text and config are clean', () => {
    assert.equal(shape('http://{{.args.host}}/files/{{.args.name}}?k={{.config.key}}'), 'http://<h1|host>/files/<../x|name>?k=host');
    assert.equal(shape('{{.config.base}}/static'), 'http://svc/static');
    assert.equal(shape('{{.args}}'), '<{"host":"h1","name":"../x","list":["a","b"],"n":2,"Content-Type":"text/plain","obj":{"k":"v"}}|*>');
    assert.equal(shape('{{.args.obj.k}}{{.args.list.1}}'), '<v|obj><b|list>');
    assert.equal(shape('{{.args.missing}}x{{.config.missing}}'), '<|missing>x', 'a missing argument prints nothing, but where it was placed shows');
  });

  it('keeps adjacent values from different arguments apart', () => {
    const out = tracked('{{.args.host}}{{.args.n}}').renderTracked(data());
    assert.deepEqual(out.pieces, [{ text: 'h1', taint: { keys: ['host'] } }, { text: '2', taint: { keys: ['n'] } }]);
  });

  it('the root itself depends on every argument; other roots are clean', () => {
    assert.match(shape('{{.}}'), /^<\{"args".*\|\*>$/);
    assert.match(shape('{{toJson .}}'), /^<.*\|\*>$/);
    assert.match(shape('{{$}}'), /^<.*\|\*>$/);
    assert.equal(shape('{{.config.key}}', { config: { key: 'k' } }), 'k');
    assert.equal(shape('{{.}}', 'plain'), 'plain', 'data that is no container has no untrusted root');
  });

  it('follows variables, with, range, template and block', () => {
    assert.equal(shape('{{$h := .args.host}}{{$c := .config.key}}[{{$h}}][{{$c}}]'), '[<h1|host>][host]');
    assert.equal(shape('{{$a := .args}}{{$a.host}}/{{$a.n}}'), '<h1|host>/<2|n>');
    assert.equal(shape('{{$h := .config.key}}{{$h = .args.host}}{{$h}}'), '<h1|host>');
    assert.equal(shape('{{with .args}}{{.host}}{{end}}|{{with .config}}{{.key}}{{end}}|{{with .args.host}}{{.}}{{end}}'), '<h1|host>|host|<h1|host>');
    assert.equal(shape('{{with .args.none}}x{{else}}{{.config.key}}{{end}}'), 'host');
    assert.equal(shape('{{range .args.list}}[{{.}}]{{end}}{{range .config.list}}[{{.}}]{{end}}'), '[<a|list>][<b|list>][c]');
    assert.equal(shape('{{range $i, $v := .args.list}}{{$i}}={{$v}};{{end}}'), '<0|list>=<a|list>;<1|list>=<b|list>;');
    assert.equal(shape('{{range $k, $v := .args}}{{if eq $k "host" "n"}}{{$k}}={{$v}};{{end}}{{end}}'), '<host|host>=<h1|host>;<n|n>=<2|n>;');
    assert.equal(shape('{{range $k, $v := .}}{{$k}};{{end}}'), 'args;config;', 'the root\'s keys are the template\'s');
    assert.equal(shape('{{range $k, $v := .}}{{if eq $k "config"}}{{$v.key}}{{else}}{{$v.host}}{{end}};{{end}}'), '<h1|host>;host;');
    assert.equal(shape('{{range .args.n}}{{.}}{{end}}'), '<0|n><1|n>');
    assert.equal(shape('{{range $i, $c := .args.host}}{{$c}}{{end}}'), '<h|host><1|host>');
    assert.equal(shape('{{define "h"}}<{{.host}}>{{end}}{{template "h" .args}}{{template "h" .config}}'), '<<h1|host>><>');
    assert.equal(shape('{{define "k"}}{{.}}{{end}}{{template "k" .config.key}}{{template "k" .args.n}}'), 'host<2|n>');
    assert.equal(shape('{{block "b" .args}}{{.name}}{{end}}'), '<../x|name>');
    assert.equal(shape('{{define "r"}}{{$.args.host}}{{end}}{{template "r" .}}'), '<h1|host>', '$ inside a template is its own dot');
  });

  it('taints what functions compute from untrusted values, with every argument involved', () => {
    assert.equal(shape('{{printf "%s-%s" .config.base .args.host}}'), '<http://svc-h1|host>');
    assert.equal(shape('{{printf "%v%v" .args.host .args.n}}'), '<h12|host,n>');
    assert.equal(shape('{{.args.host | upper}}|{{.config.key | upper}}'), '<H1|host>|HOST');
    assert.equal(shape('{{.args.none | default .config.key}}|{{.args.host | default "x"}}'), '<host|none>|<h1|host>');
    assert.equal(shape('{{len .args.list}}'), '<2|list>');
    assert.equal(shape('{{index .config .config.key}}{{index .config.list 0}}'), 'c');
    assert.equal(shape('{{index .config .args.host}}x'), '<|host>x', 'a lookup keyed by an argument: nothing printed, but tainted');
    assert.equal(shape('{{index .args "Content-Type"}}|{{index .args .config.key}}'), '<text/plain|Content-Type>|<h1|host>');
    assert.equal(shape('{{index .args .args.host}}{{index .args.list 0}}'), '<|*><a|list>', 'a key from an argument: any argument');
    assert.equal(shape('{{$k := "list"}}{{index (index .args $k) 1}}'), '<b|list>');
    assert.equal(shape('{{uuidv4 | len}}'), '36');
  });

  it('and/or answer the deciding value with its own taint', () => {
    assert.equal(shape('{{or .args.none .config.key}}|{{or .args.host .config.key}}|{{and .config.key .args.n}}'), 'host|<h1|host>|<2|n>');
    assert.equal(shape('{{.args.host | or .args.none}}|{{.config.key | and .args.host}}'), '<h1|host>|host');
  });

  it('control flow does not taint the text it selects', () => {
    assert.equal(shape('{{if eq .args.host "h1"}}a.example{{else}}b.example{{end}}'), 'a.example');
    assert.equal(shape('{{if .args.n}}{{.config.key}}{{end}}'), 'host');
  });

  it('reports an escaper\'s output as escaped by it, and anything computed from that as raw again', () => {
    assert.equal(shape('{{urlquery .args.name}}|{{.args.name | urlquery}}'), '<..%2Fx|name~urlquery>|<..%2Fx|name~urlquery>');
    assert.equal(shape('{{urlquery .args.name | upper}}|{{printf "%s" (urlquery .args.host)}}'), '<..%2FX|name>|<h1|host>');
    assert.equal(shape('{{$q := urlquery .args.host}}{{$q}}'), '<h1|host~urlquery>');
    assert.equal(shape('{{urlquery .config.base}}'), 'http%3A%2F%2Fsvc');
    const other = parse('{{urlquery .args.host}}', { taint: { root: 'args' } });
    assert.deepEqual(other.renderTracked(data()).pieces, [{ text: 'h1', taint: { keys: ['host'] } }], 'no escapers: raw');
  });

  it('GJSON paths: plain keys under the root are precise, anything else is conservative', () => {
    assert.equal(shape('{{gjson "args.host"}}|{{gjson "config.key"}}|{{`args.list.#`}}|{{`config.list.0`}}'), '<h1|host>|host|<2|list>|c');
    assert.equal(shape('{{gjson "args.list|@reverse"}}'), '<["b","a"]|list>', 'what follows a key reads inside it');
    assert.equal(shape('{{gjson "config.list|@reverse"}}'), '["c"]');
    assert.equal(shape('{{gjson "{a:args.host}"}}'), '<{"a":"h1"}|*>');
    assert.equal(shape('{{gjson "ar*.host"}}'), '<h1|*>');
    assert.equal(shape('{{with .args}}{{gjson "host"}}{{gjson "list.#"}}{{end}}'), '<h1|host><2|list>');
    assert.equal(shape('{{gjson .config.key}}|{{with .config}}{{gjson $.config.key}}{{end}}'), '|', 'dynamic paths evaluate; nothing here');
    assert.equal(shape('{{with .config}}{{gjson $.args.host}}x{{end}}'), '<|host>x');
    assert.equal(shape('{{$p := printf "%s.%s" "args" "host"}}{{gjson $p}}'), '<h1|host>', 'a dynamic path is analysed when it is known');
    assert.equal(shape('{{$p := printf "config.%s" .args.host}}{{gjson $p}}|{{gjson "config.list.0"}}', data()), '<|host>|c');
    const d = data() as { config: Record<string, JsonValue> };
    d.config['h1'] = 'secret';
    assert.equal(shape('{{$p := printf "config.%s" .args.host}}{{gjson $p}}', d), '<secret|host>', 'a path chosen by an argument taints what it reads');
  });

  it('untrusted data written into the data by set or unset taints every later read', () => {
    assert.equal(shape('{{.config.key}}{{$_ := set .config "host" .args.host}}|{{.config.host}}|{{.config.key}}'), 'host|<h1|host>|<host|host>');
    assert.equal(shape('{{$_ := set .config "k2" "fixed"}}{{.config.k2}}'), 'fixed');
    assert.equal(shape('{{$_ := unset .config .args.host}}{{.config.key}}'), '<host|host>');
    assert.equal(shape('{{$d := dict "h" .args.host "c" .config.key}}{{$d.h}}|{{$d.c}}'), '<h1|host>|<host|host>', 'a dict built from an argument is tainted whole');
  });

  it('keeps the budgets and the errors of the plain render', () => {
    const t = tracked('{{range .args.n}}{{range 1000}}x{{end}}{{end}}');
    assert.throws(() => t.renderTracked(data(), { maxSteps: 500 }), (e: unknown) => e instanceof TemplateError && e.code === 'TEMPLATE_STEP_BUDGET');
    assert.throws(() => t.renderTracked(data(), { maxOutputBytes: 100 }), (e: unknown) => e instanceof TemplateError && e.code === 'TEMPLATE_OUTPUT_BUDGET');
    assert.throws(() => tracked('{{index .args.list 9}}').renderTracked(data()), (e: unknown) => e instanceof TemplateError && e.message === 'template: url:1:3: executing "url" at <index .args.list 9>: error calling index: index out of range: 9');
    assert.throws(() => tracked('{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}').renderTracked(data()), /exceeded maximum template depth \(100\)/);
  });

  it('a tracked template renders plainly too, and can be rendered again', () => {
    const t = tracked('{{.config.base}}/{{.args.host}}');
    assert.equal(t.render(data()), 'http://svc/h1');
    assert.deepEqual(t.taint, { root: 'args', escapers: ['urlquery'] });
    assert.equal(t.renderTracked(data()).pieces.length, 2);
    assert.deepEqual(t.renderTracked({ args: { host: 'h2' }, config: { base: 'b' } }).pieces, [{ text: 'b/' }, { text: 'h2', taint: { keys: ['host'] } }]);
    assert.deepEqual(tracked('').renderTracked(data()), { text: '', pieces: [] });
  });

  describe('tracking render = plain render on the corpus', () => {
    for (const c of CORPUS) {
      it(c.name, () => {
        const input = c.data === undefined ? T : c.data;
        const name = c.templateName ?? 't';
        let expected: string | TemplateError;
        try {
          expected = parse(c.template, { name }).render(structuredClone(input), c.options);
        } catch (e) {
          assert.ok(e instanceof TemplateError);
          expected = e;
        }
        let actual: string | TemplateError;
        try {
          const out = parse(c.template, { name, taint: { root: 'U', escapers: ['urlquery'] } }).renderTracked(structuredClone(input), c.options);
          assert.equal(out.pieces.map((p) => p.text).join(''), out.text);
          actual = out.text;
        } catch (e) {
          assert.ok(e instanceof TemplateError, String(e));
          actual = e;
        }
        if (expected instanceof TemplateError) {
          assert.ok(actual instanceof TemplateError, `expected ${expected.message}, got ${String(actual)}`);
          assert.equal(actual.code, expected.code);
          assert.equal(actual.message, expected.message);
        } else if (c.pattern) {
          assert.match(String(actual), c.pattern);
        } else {
          assert.equal(actual, expected);
        }
      });
    }
  });
});
