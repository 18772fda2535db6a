/**
 * A namespace's MCP authorization and rate-limit settings, kept in the registry and delivered to
 * gateways with the watch snapshot (servers override them field by field in their spec's
 * `authorization`). Client secrets are write-only: reads answer `******` in their place, and
 * `******` written back keeps the stored value. Every issuer's metadata is fetched and checked
 * when settings are saved, so that a typo is a 400 naming the field, not a gateway that
 * answers 503 to every agent.
 */
import { AppError, invalid } from '../../lib/errors.js';
import type { AuthorizationSettings } from '../../model/authorization.js';
import { checkAuthorizationIssuers } from '../../model/authorization-issuers.js';
import type { MetadataFetch } from '../../model/authorization-issuers.js';
import { AUTHORIZATION_REDACTED, checkEffective, redactAuthorization, validateAuthorization } from '../../model/authorization.js';
import { audit } from './audit.js';
import type { RegistryContext } from './context.js';
import { write } from './context.js';
import { requireNamespace } from './naming.js';

/**
 * Settings as written, with `******` where a client secret was read, given back their stored
 * values (the same issuer's introspection secret; the token exchange's). A marker with nothing
 * stored behind it is refused, so that `******` is never stored.
 */
export function keepSecrets(next: AuthorizationSettings, stored: AuthorizationSettings | undefined, field: string): AuthorizationSettings {
  const out = structuredClone(next);
  (out.issuers ?? []).forEach((issuer, i) => {
    if (issuer.introspection?.clientSecret !== AUTHORIZATION_REDACTED) return;
    const kept = stored?.issuers?.find((s) => s.issuer === issuer.issuer)?.introspection?.clientSecret;
    if (kept === undefined) throw invalid(`${field}.issuers[${i}].introspection.clientSecret`, 'holds the redaction marker but no secret is stored for this issuer: give the secret');
    issuer.introspection.clientSecret = kept;
  });
  if (out.tokenExchange?.clientSecret === AUTHORIZATION_REDACTED) {
    const kept = stored?.tokenExchange?.clientSecret;
    if (kept === undefined) throw invalid(`${field}.tokenExchange.clientSecret`, 'holds the redaction marker but no secret is stored: give the secret');
    out.tokenExchange.clientSecret = kept;
  }
  return out;
}

/** Paths of the client secrets that differ between two settings (for the audit log, whose sides show `******`). */
function changedSecrets(before: AuthorizationSettings | undefined, after: AuthorizationSettings | undefined): string[] {
  const secrets = (s: AuthorizationSettings | undefined) => new Map<string, string>([
    ...(s?.issuers ?? []).flatMap((i): [string, string][] => (i.introspection ? [[`authorization.issuers[${i.issuer}].introspection.clientSecret`, i.introspection.clientSecret]] : [])),
    ...(s?.tokenExchange ? [['authorization.tokenExchange.clientSecret', s.tokenExchange.clientSecret] as [string, string]] : []),
  ]);
  const a = secrets(before);
  const b = secrets(after);
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).sort();
}

/** Reads and writes namespaces' authorization settings. */
export class NamespaceAuthorizationService {
  constructor(private readonly ctx: RegistryContext, private readonly fetcher: MetadataFetch = globalThis.fetch) {}

  /** The settings of a namespace with client secrets redacted (`{}` when none are set). */
  async get(namespace: string): Promise<AuthorizationSettings> {
    const ns = await this.ctx.store.getNamespace(namespace);
    if (!ns) throw new AppError('NAMESPACE_NOT_FOUND', `namespace '${namespace}' does not exist`, 'namespaceId');
    const stored = await this.ctx.store.getNamespaceAuthorization(namespace);
    return stored ? redactAuthorization(stored) : {};
  }

  /**
   * Replace a namespace's settings (`{}` clears them). Checked in full (VALIDATION_FAILED naming
   * the field), then, unless `checkIssuers` is false, every issuer's metadata is fetched and
   * checked (ISSUER_METADATA_INVALID); answers the stored settings, redacted.
   */
  async put(namespace: string, body: unknown, options: { checkIssuers?: boolean } = {}): Promise<AuthorizationSettings> {
    const field = 'authorization';
    const parsed = validateAuthorization(body, field);
    checkEffective(parsed, field);
    const before = await this.ctx.store.getNamespaceAuthorization(namespace);
    const settings = keepSecrets(parsed, before, field);
    if (options.checkIssuers !== false) await checkAuthorizationIssuers(settings, field, this.fetcher);
    const empty = Object.keys(settings).length === 0;
    return write(this.ctx, async (tx) => {
      const ns = await requireNamespace(tx, namespace);
      const current = await tx.getNamespaceAuthorization(namespace);
      await tx.setNamespaceAuthorization(namespace, empty ? undefined : settings, this.ctx.now());
      await tx.recordChange(namespace, 'namespace', namespace, 'upsert');
      await audit(this.ctx, tx, {
        namespace, entity: 'namespace', entityId: namespace, entityName: ns.name, action: 'namespace.authorization',
        before: current ? redactAuthorization(current) : null, after: empty ? null : redactAuthorization(settings),
        secretsChanged: changedSecrets(current, empty ? undefined : settings),
      });
      return empty ? {} : redactAuthorization(settings);
    });
  }
}
