import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CORPUS, T } from '../../test/fixtures/template/corpus.cases.js';
import type { CorpusCase } from '../../test/fixtures/template/corpus.cases.js';
import { TemplateError, parse } from './index.js';

function run(c: CorpusCase): string {
  return parse(c.template, { name: c.templateName ?? 't' }).render(c.data === undefined ? T : c.data, c.options);
}

describe('template corpus', () => {
  it('has at least 300 cases with unique names', () => {
    assert.ok(CORPUS.length >= 300, `only ${CORPUS.length} cases`);
    const names = new Set(CORPUS.map((c) => c.name));
    assert.equal(names.size, CORPUS.length, 'duplicate case names');
  });

  for (const c of CORPUS) {
    it(c.name, () => {
      if (c.error) {
        const expected = c.error;
        assert.throws(
          () => run(c),
          (e: unknown) => {
            assert.ok(e instanceof TemplateError, `not a TemplateError: ${String(e)}`);
            assert.equal(e.code, expected.code, e.message);
            assert.ok(e.message.includes(expected.message), `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(expected.message)}`);
            if (expected.at) assert.deepEqual([e.line, e.column], expected.at, e.message);
            return true;
          },
        );
        return;
      }
      const out = run(c);
      if (c.pattern) assert.match(out, c.pattern);
      else assert.equal(out, c.output);
    });
  }
});

describe('template API', () => {
  it('names the template and defaults the name', () => {
    assert.equal(parse('x', { name: 'url' }).name, 'url');
    assert.equal(parse('x').name, 'template');
  });

  it('tells a template that is only {{.}} (printsDot)', () => {
    for (const src of ['{{.}}', '{{ . }}', '{{- . -}}', '  {{- . -}}\n']) assert.equal(parse(src).printsDot, true, src);
    for (const src of ['', 'x{{.}}', '{{.}}\n', '{{.a}}', '{{. | toJson}}', '{{$x := .}}', '{{print .}}', '{{define "d"}}{{end}}{{.}}', '{{.}}{{.}}']) {
      assert.equal(parse(src).printsDot, false, src);
    }
  });

  it('renders without data', () => {
    assert.equal(parse('[{{.a}}][{{.}}]').render(undefined), '[][]');
  });

  it('renders the same template repeatedly and with different data', () => {
    const t = parse('{{range $i, $v := .}}{{$i}}{{$v}}{{end}}');
    assert.equal(t.render(['a', 'b']), '0a1b');
    assert.equal(t.render(['c']), '0c');
    assert.equal(t.render(['a', 'b']), '0a1b');
  });

  it('does not modify the data', () => {
    const data = { a: [3, 1, 2], m: { k: 'v' } };
    const copy = structuredClone(data);
    parse('{{$x := .a}}{{range .a}}{{.}}{{end}}{{.m.k}}{{set .m "k" "w"}}').render(data);
    assert.deepEqual(data.a, copy.a);
  });

  it('reports parse errors with name, line, column and detail', () => {
    assert.throws(
      () => parse('ok\n  {{ .a | nope }}', { name: 'body' }),
      (e: unknown) =>
        e instanceof TemplateError &&
        e.code === 'TEMPLATE_PARSE' &&
        e.templateName === 'body' &&
        e.line === 2 &&
        e.column === 11 &&
        e.detail === 'function "nope" not defined' &&
        e.message === 'template: body:2:11: function "nope" not defined',
    );
  });

  it('reports execution errors with Go-style context', () => {
    assert.throws(
      () => parse('{{define "d"}}{{index .SI 9}}{{end}}{{template "d" .}}', { name: 'body' }).render({ SI: [1] }),
      (e: unknown) =>
        e instanceof TemplateError &&
        e.code === 'TEMPLATE_EXEC' &&
        e.context?.executing === 'd' &&
        e.context.node === 'index .SI 9' &&
        e.message === 'template: body:1:17: executing "d" at <index .SI 9>: error calling index: index out of range: 9',
    );
  });
});
