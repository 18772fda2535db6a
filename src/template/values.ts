/**
 * The values templates compute with: plain JSON (as parsed by JSON.parse) plus the
 * time and duration values that date functions return. Shared by the evaluator and
 * the function library.
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * A Go `time.Time`: an instant plus the IANA zone it is shown in. `nanos` holds the
 * sub-millisecond part (0–999999) so that Go layouts with nanoseconds round-trip.
 */
export class GoTime {
  constructor(
    readonly epochMs: number,
    readonly zone: string = 'UTC',
    readonly nanos: number = 0,
  ) {}
}

/** A Go `time.Duration`, in nanoseconds (as a number: ±104 days exact, enough here). */
export class GoDuration {
  constructor(readonly nanoseconds: number) {}
}

/** Anything a template expression can evaluate to. `undefined` is a missing value (Go's zero value). */
export type TemplateValue = JsonValue | GoTime | GoDuration | undefined;
