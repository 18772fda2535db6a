/** Assertions on the registry's coded errors. */
import assert from 'node:assert/strict';
import { AppError } from '../../src/lib/errors.js';
import type { ErrorCode } from '../../src/lib/errors.js';

/** `fn` throws an AppError with `code` on `field`; answers it for further checks. */
export function expectAppError(fn: () => unknown, code: ErrorCode, field: string): AppError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof AppError, `expected AppError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.field, field, error.message);
    return error;
  }
  assert.fail(`expected ${code} on ${field}`);
}
