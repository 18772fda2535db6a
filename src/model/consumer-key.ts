/**
 * Gateway consumer keys: what the registry stores of them (a hash) and how the gateway finds a
 * key's consumer (the same hash), and the prefix that makes them recognisable.
 */
import { createHash } from 'node:crypto';

/** Prefix of gateway consumer keys, so they are recognisable in logs and secret scanners. */
export const CONSUMER_KEY_PREFIX = 'mgk_';

/** The SHA-256 (hex) under which a consumer key is stored and looked up. */
export function hashConsumerKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
