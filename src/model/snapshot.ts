/**
 * The registry-snapshot contract: what the registry produces (its watch API, its in-process
 * `WatchService`) and what the gateway consumes (every `ConfigSource` delivers these), so that
 * neither side imports the other.
 */
import type { AuthorizationSettings } from './authorization.js';
import type { Change, Consumer, McpServer, McpServerSpec } from './model.js';

/** An instance as gateways see it. */
export interface SnapshotInstance {
  ip: string;
  port: number;
  weight: number;
  healthy: boolean;
  enabled: boolean;
  cluster: string;
  metadata: Record<string, string>;
}

/** Everything a gateway serves from, at one revision. */
export interface RegistrySnapshot {
  revision: number;
  namespaces: string[];
  services: { namespace: string; group: string; name: string; instances: SnapshotInstance[] }[];
  /** MCP servers with a published version, and that version's spec. */
  mcpServers: { server: McpServer; spec: McpServerSpec }[];
  /** Gateway API keys (hashes only). */
  consumers: Consumer[];
  /** MCP authorization settings per namespace (servers override them in their spec's `authorization`). */
  namespaceAuthorization?: Record<string, AuthorizationSettings>;
  /**
   * Servers (`namespace/name`) whose secrets the watch API withheld from this reader (they read
   * `******`): its token lacks the gateway, editor or admin role in their namespace.
   */
  withheld?: string[];
}

/** Changes after a revision, or the instruction to reload the snapshot. */
export type ChangeBatch = { revision: number; changes: Change[]; resync?: false } | { revision: number; changes: []; resync: true };

/** Reads the registry's published configuration in the same process (the registry's `WatchService`). */
export interface SnapshotReader {
  /** The published configuration at the current revision. */
  snapshot(): Promise<RegistrySnapshot>;
}

/** Announces new registry revisions in the same process (the registry's `ChangeFeed`). */
export interface RevisionFeed {
  /** The latest revision announced. */
  readonly revision: number;
  on(event: 'revision', listener: (revision: number) => void): unknown;
  off(event: 'revision', listener: (revision: number) => void): unknown;
}
