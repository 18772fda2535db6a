/**
 * The gateway's configuration port: where registry snapshots come from (in-process, a registry
 * over HTTP, or a file). Every implementation passes `sources.contract.test.ts`.
 */
import type { RegistrySnapshot } from '../../model/snapshot.js';

/** A source of registry snapshots for the gateway (in-process, registry over HTTP, or a file). */
export interface ConfigSource {
  /** Start delivering snapshots; resolves once the first one was delivered (or the source gave up with a cached one). */
  start(onSnapshot: (snapshot: RegistrySnapshot) => void): Promise<void>;
  stop(): Promise<void>;
  /** A one-line description for logs and /readyz (which registry, which file...). */
  describe(): string;
}
