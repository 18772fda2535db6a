// Table-driven tests of the function library, shared by its *.test.ts files.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TemplateValue } from '../values.js';
import { ArgumentError, FUNCTIONS, FunctionError } from './index.js';

/** One call: the expected value, a pattern the string result matches, or the error message. */
export interface FunctionCase {
  fn: string;
  args: TemplateValue[];
  want?: TemplateValue;
  match?: RegExp;
  error?: string;
  /** The error is Go's own argument error (reported without "error calling"). */
  argError?: boolean;
}

/** Call a function of the library by name. */
export function callFunction(fn: string, ...args: TemplateValue[]): TemplateValue {
  const f = FUNCTIONS.get(fn);
  assert.ok(f, `no function ${fn}`);
  return f(...args);
}

/** One test per case; `checkArgErrors` also asserts whether an error is an ArgumentError. */
export function functionTable(title: string, cases: readonly FunctionCase[], checkArgErrors = true): void {
  describe(title, () => {
    cases.forEach((c, i) => {
      it(`${i}: ${c.fn} ${JSON.stringify(c.args)}`, () => {
        if (c.error !== undefined) {
          assert.throws(
            () => callFunction(c.fn, ...c.args),
            (e: unknown) => {
              assert.ok(e instanceof FunctionError, `not a FunctionError: ${String(e)}`);
              assert.equal(e.message, c.error);
              if (checkArgErrors) assert.equal(e instanceof ArgumentError, c.argError ?? false, 'argument-error flag');
              return true;
            },
          );
        } else if (c.match) {
          const got = callFunction(c.fn, ...c.args);
          assert.equal(typeof got, 'string');
          assert.match(got as string, c.match);
        } else {
          assert.deepEqual(callFunction(c.fn, ...c.args), c.want);
        }
      });
    });
  });
}
