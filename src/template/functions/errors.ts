/** A function's runtime error, reported as `error calling NAME: MESSAGE` like Go does. */
export class FunctionError extends Error {
  override readonly name: string = 'FunctionError';
}

/**
 * A wrong argument count or an argument of the wrong type. Go reports these from the
 * evaluator itself, without the `error calling NAME:` prefix, so the evaluator should
 * report `message` alone.
 */
export class ArgumentError extends FunctionError {
  override readonly name: string = 'ArgumentError';
}
