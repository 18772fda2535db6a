/**
 * The registry's domain services wired over a store: what the HTTP layers, the background jobs
 * and the in-process gateway's source use. Apart from the HTTP server, so that the routes can
 * name these types without an import cycle.
 */
import { addLogRedactor } from '../lib/logger.js';
import { checkSpec } from '../tools/compile.js';
import type { DocumentFetchOptions } from '../tools/document-fetch.js';
import type { ClusterNode } from './cluster/node.js';
import { AuditService } from './domain/audit.js';
import { AuthService } from './domain/auth.js';
import type { AuthOptions } from './domain/auth.js';
import { ChangeFeed } from './domain/context.js';
import type { RegistryContext } from './domain/context.js';
import { ConsumerService } from './domain/consumers.js';
import { McpService } from './domain/mcp.js';
import { McpConfigReader } from './domain/nacos-configs.js';
import { NamespaceAuthorizationService } from './domain/namespace-authorization.js';
import { NamingService } from './domain/naming.js';
import { redactSpecForLog } from './domain/secrets.js';
import { WatchService } from './domain/watch.js';
import type { Store } from './store/store.js';

/** The registry's domain services, as the HTTP layers and the in-process gateway use them. */
export interface RegistryServices {
  store: Store;
  feed: ChangeFeed;
  naming: NamingService;
  mcp: McpService;
  auth: AuthService;
  watch: WatchService;
  consumers: ConsumerService;
  /** Namespaces' MCP authorization and rate-limit settings. */
  namespaceAuthorization: NamespaceAuthorizationService;
  audit: AuditService;
  /** The MCP servers as Nacos configs (gRPC ConfigQuery, HTTP /nacos/v1/cs/configs). */
  nacosConfigs: McpConfigReader;
  /** This node in the registry cluster (set by `Registry.start`). */
  cluster?: ClusterNode;
  /** Limits of imports that fetch a document by URL (set by `Registry.start`; defaults: no private addresses, 5 MiB, 15 s). */
  importLimits?: DocumentFetchOptions;
}

/** Wire the domain services over a store. */
export function createRegistryServices(store: Store, tokenTtlSeconds: number, now: () => number = Date.now, authOptions: AuthOptions = {}): RegistryServices {
  // Specs declare some of their secrets themselves: the process's logs hide those too.
  addLogRedactor(redactSpecForLog);
  const feed = new ChangeFeed(store);
  const ctx: RegistryContext = { store, feed, now };
  return {
    store, feed, naming: new NamingService(ctx), mcp: new McpService(ctx, checkSpec), auth: new AuthService(ctx, tokenTtlSeconds, authOptions),
    watch: new WatchService(ctx), consumers: new ConsumerService(ctx),
    namespaceAuthorization: new NamespaceAuthorizationService(ctx), audit: new AuditService(ctx), nacosConfigs: new McpConfigReader(ctx),
  };
}
