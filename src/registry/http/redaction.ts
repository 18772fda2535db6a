/**
 * What each caller may read of MCP servers' secrets, applied on every API family's read path:
 * callers who may read a namespace's secrets (`canReadSecrets`: editor, admin, gateway) get the
 * stored values, everyone else `REDACTED` in their place (domain/secrets.ts says where).
 */
import type { Principal } from '../domain/auth.js';
import { canReadSecrets } from '../domain/auth.js';
import type { McpServer, McpServerSpec, McpServerVersion } from '../../model/model.js';
import { hasSecrets, redactServer, redactSpec } from '../domain/secrets.js';
import type { RegistrySnapshot } from '../../model/snapshot.js';
import { redactAuthorization } from '../../model/authorization.js';

/** A spec of `namespace` as `p` may read it. */
export function specFor(p: Principal, namespace: string, spec: McpServerSpec): McpServerSpec {
  return canReadSecrets(p, namespace) ? spec : redactSpec(spec);
}

/** A server record as `p` may read it. */
export function serverFor(p: Principal, server: McpServer): McpServer {
  return canReadSecrets(p, server.namespace) ? server : redactServer(server);
}

/** A version of a server of `namespace` as `p` may read it. */
export function versionFor(p: Principal, namespace: string, v: McpServerVersion): McpServerVersion {
  return canReadSecrets(p, namespace) ? v : { ...v, spec: redactSpec(v.spec) };
}

/**
 * The watch snapshot as `p` may read it: the servers of namespaces where `p` may not read
 * secrets are redacted and listed in `withheld` (`namespace/name`), so that a gateway whose
 * token lacks the right says so in its log instead of sending markers to backends unawares.
 */
export function snapshotFor(p: Principal, snapshot: RegistrySnapshot): RegistrySnapshot {
  const withheld: string[] = [];
  const mcpServers = snapshot.mcpServers.map((entry) => {
    if (canReadSecrets(p, entry.server.namespace)) return entry;
    const server = redactServer(entry.server);
    if (server !== entry.server || hasSecrets(entry.spec)) withheld.push(`${entry.server.namespace}/${entry.server.name}`);
    return { server, spec: redactSpec(entry.spec) };
  });
  let namespaceAuthorization = snapshot.namespaceAuthorization;
  if (namespaceAuthorization) {
    namespaceAuthorization = Object.fromEntries(Object.entries(namespaceAuthorization).map(([ns, settings]) => {
      if (canReadSecrets(p, ns)) return [ns, settings];
      const redacted = redactAuthorization(settings);
      if (JSON.stringify(redacted) !== JSON.stringify(settings)) withheld.push(`${ns} (namespace authorization)`);
      return [ns, redacted];
    }));
  }
  const out = { ...snapshot, mcpServers, ...(namespaceAuthorization ? { namespaceAuthorization } : {}) };
  return withheld.length > 0 ? { ...out, withheld } : out;
}
