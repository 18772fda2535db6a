import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { printJson } from './exec.js';
import { printValue } from './functions/index.js';
import { gjsonGet } from './gjson/gjson.js';
import { TemplateError, parse } from './index.js';
import type { JsonValue } from './index.js';

const KEYS = ['a', 'b', 'c', 'x_1', 'é', '0', '1', '2'];

/** JSON whose object keys come from a small set, so random paths often hit. */
const data: fc.Arbitrary<JsonValue> = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom<JsonValue>(null, true, false, 0, -1, 1.5, 1e21, 123456789, '', 'text', 'ünï'),
    fc.string(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { maxKeys: 5 }),
  ),
})).value;

/** A plain path: the first segment is an identifier (a field cannot start with a digit), later ones may be indexes. */
const path: fc.Arbitrary<string[]> = fc
  .tuple(fc.constantFrom('a', 'b', 'c', 'x_1', 'é', 'missing'), fc.array(fc.constantFrom(...KEYS), { maxLength: 3 }))
  .map(([first, rest]) => [first, ...rest]);

const TOKENS = [
  '{{', '}}', '{{- ', ' -}}', '{{/*', '*/}}', '.a', '.b.c', '.0', '.', '$', '$x', ':=', '=', '|', '(', ')', ',', ' ', '\n',
  'if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue', 'nil', 'true',
  '"s"', '`r`', "'c'", '"\\x41"', '1', '-2', '0x1F', '1.5', '1e3', '1i', 'add', 'printf', '"%d"', 'gjson', '"a.#"', 'len',
  'index', 'and', 'or', 'not', 'eq', 'toJson', 'default', 'x', '#', '}', '{', '-', 'é',
];

const templateSource: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.array(fc.constantFrom(...TOKENS), { maxLength: 30 }).map((t) => t.join('')),
  fc.array(fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 3 })), { maxLength: 30 }).map((t) => t.join(' ')),
);

describe('template properties', () => {
  it('a field chain {{.p.q}} prints what the GJSON path p.q finds', () => {
    fc.assert(
      fc.property(data, path, (doc, segments) => {
        const out = parse(`{{.${segments.join('.')}}}`).render(doc);
        assert.equal(out, printValue(gjsonGet(doc, segments.join('.'))));
      }),
      { numRuns: 2000 },
    );
  });

  it('the evaluator prints plain JSON exactly as printValue does', () => {
    fc.assert(
      fc.property(fc.oneof(data, fc.jsonValue() as fc.Arbitrary<JsonValue>), (doc) => {
        assert.equal(printJson(doc), printValue(doc));
      }),
      { numRuns: 2000 },
    );
  });

  it('a variable chain {{$v.p.q}} agrees with the field chain', () => {
    fc.assert(
      fc.property(data, path, (doc, segments) => {
        const p = segments.join('.');
        assert.equal(parse(`{{$v := .}}{{$v.${p}}}`).render(doc), parse(`{{.${p}}}`).render(doc));
      }),
      { numRuns: 500 },
    );
  });

  it('parse and render never throw anything but TemplateError', () => {
    fc.assert(
      fc.property(templateSource, data, (source, doc) => {
        try {
          parse(source, { name: 'p' }).render(doc, { maxSteps: 10_000, maxOutputBytes: 64 * 1024 });
        } catch (e) {
          if (!(e instanceof TemplateError)) throw e;
          assert.ok(e.line >= 1 && e.column >= 1, e.message);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
