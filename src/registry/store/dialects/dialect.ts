import type { Dialect } from 'kysely';

/**
 * What differs between databases, as capabilities of one adapter: the store core reads
 * these flags and never asks which database it talks to.
 */
export interface StoreDialect {
  readonly name: 'sqlite' | 'postgres' | 'mysql';
  /** Creates the Kysely dialect (and its connection pool). */
  create(): Dialect;
  /** `UPDATE … RETURNING` is available. */
  readonly supportsReturning: boolean;
  /** Column type for large JSON documents (MySQL's TEXT stops at 64 KiB). */
  readonly largeTextType: 'text' | 'longtext';
  /** Column type for bounded strings used in keys and indexes. */
  readonly keyTextType: (length: number) => string;
  /** SQL appended to CREATE TABLE (MySQL: case-sensitive collation, InnoDB). */
  readonly createTableSuffix: string;
  /**
   * SQL run first in a transaction whose loss in a crash is harmless (ephemeral instances
   * re-register from their next heartbeat), so its commit does not wait for the disk.
   */
  readonly relaxedDurabilitySql?: string;
  /** Whether an error from the driver is a unique-constraint violation. */
  isUniqueViolation(err: unknown): boolean;
  /** Whether an error from the driver means the database is unreachable. */
  isUnavailable(err: unknown): boolean;
}

/** Error codes of Node's network layer that mean "the database is not there". */
export const NETWORK_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', 'PROTOCOL_CONNECTION_LOST']);

/** The `code` property of a driver error, if any. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
