/**
 * Backup and move: a whole registry, or one namespace, as one JSON document, and back.
 *
 * What a backup holds: namespaces; services with their persistent instances (ephemeral ones live
 * by their clients' heartbeats and come back by themselves); MCP servers with every version and
 * which one is published; consumers with their key hashes (the agents' keys keep working);
 * namespaces' MCP authorization settings.
 * Users, API tokens and the audit log stay behind: they belong to the registry, not to what it
 * serves.
 *
 * Secrets (what secrets.ts declares: credentials, secret headers and config values, URL
 * passwords) never appear in clear: each is replaced by a placeholder `mcpgate-secret:N`, and
 * their values are sealed together with AES-256-GCM under a key derived from a passphrase
 * (scrypt). A wrong passphrase, or a changed document, fails the GCM check and nothing is written.
 *
 * Import is idempotent: what exists is left as it is (a version with the same content is
 * skipped), what is missing is created, the published version is published again when it
 * differs; importing the same file twice changes nothing the second time.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCb } from 'node:crypto';
import { promisify } from 'node:util';
import { AppError, invalid } from '../../lib/errors.js';
import type { AllowEntry, CredentialPassthrough, Endpoint, FrontProtocol, HealthCheck, McpProtocol, McpServerSpec, VersionStatus } from '../../model/model.js';
import type { AuthorizationSettings } from '../../model/authorization.js';
import { validateAuthorization } from '../../model/authorization.js';
import { checkAuthorizationIssuers } from '../../model/authorization-issuers.js';
import type { RegistryServices } from '../services.js';
import { diffSpecs } from './mcp.js';
import { mapEndpointSecret, mapSecretSites } from './secrets.js';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

/** The format name and version every backup document carries. */
export const BACKUP_FORMAT = 'mcpgate-backup';
export const BACKUP_VERSION = 1;
const PLACEHOLDER = /^mcpgate-secret:(\d{1,9})$/;
const KDF = { N: 2 ** 15, r: 8, p: 1 };

/** The sealed secret values of a backup. */
export interface SealedSecrets {
  cipher: 'aes-256-gcm';
  kdf: 'scrypt';
  N: number;
  r: number;
  p: number;
  /** base64 */
  salt: string;
  iv: string;
  tag: string;
  data: string;
}

/** One registry (or namespace) as a document. */
export interface BackupDocument {
  format: typeof BACKUP_FORMAT;
  version: typeof BACKUP_VERSION;
  exportedAt: string;
  /** The namespace exported alone, when not the whole registry. */
  namespace?: string;
  namespaces: { id: string; name: string; description: string }[];
  services: {
    namespace: string; group: string; name: string; metadata: Record<string, string>; protectThreshold: number; selector: string;
    instances: { ip: string; port: number; cluster: string; weight: number; enabled: boolean; metadata: Record<string, string>; healthCheck: HealthCheck | null }[];
  }[];
  mcpServers: {
    namespace: string; name: string; description: string; protocol: McpProtocol; frontProtocol: FrontProtocol; endpoint: Endpoint; enabled: boolean;
    passthrough: CredentialPassthrough; publishedVersion: string | null;
    versions: { version: string; status: VersionStatus; spec: McpServerSpec }[];
  }[];
  consumers: { namespace: string; name: string; keyHash: string; keyPrefix: string; allow: AllowEntry[] | null }[];
  /** Namespaces' MCP authorization settings (client secrets sealed); absent in backups made before they existed. */
  authorization?: { namespace: string; settings: AuthorizationSettings }[];
  /** Present when the exported data held secrets. */
  secrets?: SealedSecrets;
}

/** What an import did, by kind of object. */
export interface ImportReport {
  created: Record<'namespaces' | 'services' | 'instances' | 'mcpServers' | 'versions' | 'consumers' | 'published' | 'authorization', number>;
  unchanged: number;
  /** Objects left as they are because they differ from the file in a way an import must not change (a published version). */
  conflicts: string[];
}

const PAGE = 500;

async function allPages<T>(fetch: (pageNo: number) => Promise<{ items: T[]; total: number }>): Promise<T[]> {
  const out: T[] = [];
  for (let pageNo = 1; ; pageNo++) {
    const page = await fetch(pageNo);
    out.push(...page.items);
    if (page.items.length < PAGE || out.length >= page.total) return out;
  }
}

/** Export the registry (or one namespace). A passphrase is required when any secret is exported. */
export async function exportRegistry(services: RegistryServices, opts: { namespace?: string; passphrase?: string; now?: Date } = {}): Promise<BackupDocument> {
  const { naming, mcp, store } = services;
  const all = await naming.listNamespaces();
  const namespaces = opts.namespace === undefined ? all : all.filter((n) => n.id === opts.namespace);
  if (opts.namespace !== undefined && namespaces.length === 0) throw new AppError('NAMESPACE_NOT_FOUND', `namespace '${opts.namespace}' does not exist`, 'namespace');
  const secrets: string[] = [];
  const seal = (value: string | number) => {
    secrets.push(JSON.stringify(value));
    return `mcpgate-secret:${secrets.length - 1}`;
  };
  const doc: BackupDocument = {
    format: BACKUP_FORMAT, version: BACKUP_VERSION, exportedAt: (opts.now ?? new Date()).toISOString(),
    ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
    namespaces: namespaces.map((n) => ({ id: n.id, name: n.name, description: n.description })), services: [], mcpServers: [], consumers: [],
  };
  for (const ns of namespaces) {
    for (const s of await allPages((pageNo) => naming.listServices(ns.id, { pageNo, pageSize: PAGE }))) {
      const instances = await store.listInstances({ namespace: ns.id, serviceId: s.id, ephemeral: false });
      doc.services.push({
        namespace: ns.id, group: s.group, name: s.name, metadata: s.metadata, protectThreshold: s.protectThreshold, selector: s.selector,
        instances: instances.map((i) => ({ ip: i.ip, port: i.port, cluster: i.cluster, weight: i.weight, enabled: i.enabled, metadata: i.metadata, healthCheck: i.healthCheck })),
      });
    }
    for (const server of await allPages((pageNo) => mcp.list(ns.id, { pageNo, pageSize: PAGE } as Parameters<typeof mcp.list>[1]))) {
      const { versions } = await mcp.listVersions(ns.id, { id: server.id });
      doc.mcpServers.push({
        namespace: ns.id, name: server.name, description: server.description, protocol: server.protocol, frontProtocol: server.frontProtocol,
        endpoint: mapEndpointSecret(server.endpoint, (p) => seal(p)), enabled: server.enabled, passthrough: server.passthrough,
        publishedVersion: server.publishedVersion,
        versions: [...versions].sort((a, b) => a.createdAt - b.createdAt).map((v) => ({
          version: v.version, status: v.status, spec: mapSecretSites(v.spec, (value, secret) => (secret ? seal(value) : value)),
        })),
      });
    }
    for (const c of await store.listConsumers(ns.id)) {
      doc.consumers.push({ namespace: ns.id, name: c.name, keyHash: c.keyHash, keyPrefix: c.keyPrefix, allow: c.allow });
    }
    const settings = await store.getNamespaceAuthorization(ns.id);
    if (settings) (doc.authorization ??= []).push({ namespace: ns.id, settings: mapAuthorizationSecrets(settings, (v) => seal(v)) });
  }
  if (secrets.length > 0) {
    if (!opts.passphrase) throw invalid('passphrase', `the export holds ${secrets.length} secret value(s): give a passphrase to encrypt them`);
    doc.secrets = await sealSecrets(secrets, opts.passphrase);
  }
  return doc;
}

async function keyFor(passphrase: string, salt: Buffer, p: { N: number; r: number; p: number }): Promise<Buffer> {
  return scrypt(passphrase, salt, 32, { ...p, maxmem: 256 * p.N * p.r + 1024 * 1024 });
}

async function sealSecrets(values: string[], passphrase: string): Promise<SealedSecrets> {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', await keyFor(passphrase, salt, KDF), iv);
  const data = Buffer.concat([cipher.update(JSON.stringify(values), 'utf8'), cipher.final()]);
  return { cipher: 'aes-256-gcm', kdf: 'scrypt', ...KDF, salt: salt.toString('base64'), iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
}

async function openSecrets(sealed: SealedSecrets, passphrase: string): Promise<unknown[]> {
  if (sealed.cipher !== 'aes-256-gcm' || sealed.kdf !== 'scrypt') throw invalid('secrets', 'unknown cipher or key derivation');
  if (![sealed.N, sealed.r, sealed.p].every((n) => Number.isInteger(n) && n > 0) || sealed.N > 2 ** 20 || sealed.r > 32 || sealed.p > 16) throw invalid('secrets', 'key derivation parameters out of range');
  const key = await keyFor(passphrase, Buffer.from(sealed.salt, 'base64'), sealed);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    const text = Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8');
    return (JSON.parse(text) as string[]).map((v) => JSON.parse(v) as unknown);
  } catch {
    throw invalid('passphrase', 'cannot decrypt the secrets: wrong passphrase, or the file was changed');
  }
}

/** Settings with each client secret replaced by `map(secret)` (sealed on export, unsealed on import). */
function mapAuthorizationSecrets(settings: AuthorizationSettings, map: (secret: string) => string): AuthorizationSettings {
  const copy = structuredClone(settings);
  for (const i of copy.issuers ?? []) if (i.introspection && typeof i.introspection.clientSecret === 'string') i.introspection.clientSecret = map(i.introspection.clientSecret);
  if (copy.tokenExchange && typeof copy.tokenExchange.clientSecret === 'string') copy.tokenExchange.clientSecret = map(copy.tokenExchange.clientSecret);
  return copy;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Check the document's shape (the parts import relies on); throws VALIDATION_FAILED naming the field. */
export function checkBackup(doc: unknown): BackupDocument {
  if (!isRecord(doc) || doc.format !== BACKUP_FORMAT) throw invalid('format', `not an mcpgate backup (format must be '${BACKUP_FORMAT}')`);
  if (doc.version !== BACKUP_VERSION) throw invalid('version', `backup version ${String(doc.version)} is not supported (this mcpgate reads version ${BACKUP_VERSION})`);
  for (const k of ['namespaces', 'services', 'mcpServers', 'consumers'] as const) if (!Array.isArray(doc[k])) throw invalid(k, 'must be an array');
  (doc.mcpServers as unknown[]).forEach((s, i) => {
    if (!isRecord(s) || typeof s.namespace !== 'string' || typeof s.name !== 'string' || !Array.isArray(s.versions) || s.versions.length === 0) {
      throw invalid(`mcpServers[${i}]`, 'needs namespace, name and at least one version');
    }
  });
  return doc as unknown as BackupDocument;
}

/** The issuers were checked with the whole document (or the caller said not to check them). */
const CHECKED = { checkIssuers: false } as const;

/**
 * The issuers of every authorization setting of a backup (secrets left sealed: the check reads
 * no secret), each distinct list once. Throws ISSUER_METADATA_INVALID naming the document's field.
 */
async function checkBackupIssuers(doc: BackupDocument): Promise<void> {
  const done = new Set<string>();
  const check = async (value: unknown, field: string): Promise<void> => {
    if (value === undefined || value === null) return;
    const settings = validateAuthorization(value, field);
    const key = JSON.stringify(settings.issuers ?? []);
    if (done.has(key)) return;
    await checkAuthorizationIssuers(settings, field);
    done.add(key);
  };
  for (const [i, a] of (Array.isArray(doc.authorization) ? doc.authorization : []).entries()) {
    if (isRecord(a)) await check(a.settings, `authorization[${i}].settings`);
  }
  for (const [i, s] of doc.mcpServers.entries()) {
    for (const [j, v] of s.versions.entries()) await check((v.spec as { authorization?: unknown } | undefined)?.authorization, `mcpServers[${i}].versions[${j}].spec.authorization`);
  }
}

/**
 * Import a backup document (see the module comment); `passphrase` opens its secrets. The
 * issuers of every authorization setting in it (namespaces' and servers' `spec.authorization`)
 * are fetched and checked before anything is written, as a save checks them, unless
 * `checkIssuers` is false (a restore while the authorization servers are unreachable).
 */
export async function importBackup(services: RegistryServices, input: unknown, opts: { passphrase?: string; checkIssuers?: boolean } = {}): Promise<ImportReport> {
  const doc = checkBackup(input);
  const { naming, mcp, consumers } = services;
  let secrets: unknown[] = [];
  if (doc.secrets) {
    if (!opts.passphrase) throw invalid('passphrase', 'the backup holds encrypted secrets: give its passphrase');
    secrets = await openSecrets(doc.secrets, opts.passphrase);
  }
  const unseal = (value: unknown, field: string): unknown => {
    if (typeof value !== 'string') return value;
    const m = PLACEHOLDER.exec(value);
    if (!m) return value;
    const i = Number(m[1]);
    if (i >= secrets.length) throw invalid(field, `refers to secret ${i}, which the backup does not hold`);
    return secrets[i];
  };
  if (opts.checkIssuers !== false) await checkBackupIssuers(doc);
  const report: ImportReport = { created: { namespaces: 0, services: 0, instances: 0, mcpServers: 0, versions: 0, consumers: 0, published: 0, authorization: 0 }, unchanged: 0, conflicts: [] };
  const existing = new Set((await naming.listNamespaces()).map((n) => n.id));
  for (const ns of doc.namespaces) {
    if (existing.has(ns.id)) { report.unchanged++; continue; }
    await naming.createNamespace({ id: ns.id, name: ns.name, description: ns.description });
    existing.add(ns.id);
    report.created.namespaces++;
  }
  for (const s of doc.services) {
    const service = await naming.getService(s.namespace, s.group, s.name).catch((err: unknown) => {
      if (err instanceof AppError && err.code === 'SERVICE_NOT_FOUND') return undefined;
      throw err;
    });
    if (!service) {
      await naming.createService({ namespace: s.namespace, group: s.group, name: s.name, metadata: s.metadata, protectThreshold: s.protectThreshold, selector: s.selector });
      report.created.services++;
    } else report.unchanged++;
    const { instances } = await naming.listInstances(s.namespace, s.group, s.name);
    for (const i of s.instances) {
      if (instances.some((x) => x.ip === i.ip && x.port === i.port && x.cluster === i.cluster)) { report.unchanged++; continue; }
      await naming.registerInstance({
        namespace: s.namespace, group: s.group, service: s.name, ip: i.ip, port: i.port, cluster: i.cluster, weight: i.weight, enabled: i.enabled,
        ephemeral: false, metadata: i.metadata, ...(i.healthCheck ? { healthCheck: i.healthCheck } : {}),
      });
      report.created.instances++;
    }
  }
  for (const [index, s] of doc.mcpServers.entries()) {
    const at = `mcpServers[${index}]`;
    const endpoint = mapEndpointSecret(s.endpoint, (p) => String(unseal(p, `${at}.endpoint.url`)));
    const fields = { description: s.description, protocol: s.protocol, frontProtocol: s.frontProtocol, endpoint, enabled: s.enabled, passthrough: s.passthrough };
    const specs = s.versions.map((v, j) => mapSecretSites(v.spec, (value) => unseal(value, `${at}.versions[${j}].spec`) as string | number));
    let stored = await mcp.listVersions(s.namespace, { name: s.name }).catch((err: unknown) => {
      if (err instanceof AppError && err.code === 'MCP_SERVER_NOT_FOUND') return undefined;
      throw err;
    });
    let first = 0;
    if (!stored) {
      await mcp.create(s.namespace, { name: s.name, ...fields }, specs[0] as McpServerSpec, false, undefined, CHECKED);
      report.created.mcpServers++;
      report.created.versions++;
      first = 1;
      stored = await mcp.listVersions(s.namespace, { name: s.name });
    } else report.unchanged++;
    for (let j = first; j < specs.length; j++) {
      const spec = specs[j] as McpServerSpec;
      const have = stored.versions.find((v) => v.version === spec.version);
      if (have && diffSpecs(have.spec, spec).length === 0) { report.unchanged++; continue; }
      if (have && have.status !== 'draft') { report.conflicts.push(`${s.namespace}/${s.name} version ${spec.version}: ${have.status} here with another content; left as it is`); continue; }
      await mcp.saveVersion(s.namespace, { name: s.name }, {}, spec, false, undefined, CHECKED);
      report.created.versions++;
    }
    const current = await mcp.get(s.namespace, { name: s.name });
    if (s.publishedVersion && current.publishedVersion !== s.publishedVersion) {
      await mcp.publish(s.namespace, { name: s.name }, s.publishedVersion);
      report.created.published++;
    }
  }
  for (const c of doc.consumers) {
    if (await consumers.restore(c.namespace, c)) report.created.consumers++;
    else report.unchanged++;
  }
  for (const [index, a] of (Array.isArray(doc.authorization) ? doc.authorization : []).entries()) {
    const at = `authorization[${index}]`;
    if (!isRecord(a) || typeof a.namespace !== 'string') throw invalid(at, 'needs namespace and settings');
    const settings = mapAuthorizationSecrets(a.settings, (v) => String(unseal(v, `${at}.settings`)));
    const stored = await services.store.getNamespaceAuthorization(a.namespace);
    if (stored && JSON.stringify(stored) === JSON.stringify(settings)) { report.unchanged++; continue; }
    if (stored) { report.conflicts.push(`${a.namespace}: authorization settings differ here; left as they are`); continue; }
    // Checked with the whole document before anything was written (checkBackupIssuers).
    await services.namespaceAuthorization.put(a.namespace, settings, CHECKED);
    report.created.authorization++;
  }
  return report;
}

// ------------------------------------------------------------------ Nacos MCP export

/**
 * The MCP servers of a Nacos MCP export: what Nacos 3's admin API answers for servers
 * (`GET /nacos/v3/admin/ai/mcp?mcpName=…`: a server's detail with `toolSpec`), one of them, an
 * array of them, or either inside Nacos' answer envelope (`{"code":0,"data":…}`, a page's
 * `pageItems`). Undefined when the document is none of these.
 */
export function nacosMcpItems(doc: unknown): Record<string, unknown>[] | undefined {
  let body: unknown = doc;
  if (isRecord(body) && 'data' in body && 'code' in body) body = body.data;
  if (isRecord(body) && Array.isArray(body.pageItems)) body = body.pageItems;
  const items = Array.isArray(body) ? body : [body];
  const isServer = (x: unknown): x is Record<string, unknown> =>
    isRecord(x) && typeof x.name === 'string' && ('toolSpec' in x || 'versionDetail' in x || 'serverSpecification' in x || 'protocol' in x);
  return items.length > 0 && items.every(isServer) ? items : undefined;
}

/**
 * Import a Nacos MCP export (see `nacosMcpItems`) into `namespace` (each server's own
 * `namespaceId` wins), converted as the Nacos API converts a create; each server's version is
 * published. Idempotent like `importBackup`.
 */
export async function importNacosMcp(services: RegistryServices, items: Record<string, unknown>[], namespace: string): Promise<ImportReport> {
  const { naming, mcp } = services;
  const { parseImport } = await import('../../model/convert/import.js');
  const report: ImportReport = { created: { namespaces: 0, services: 0, instances: 0, mcpServers: 0, versions: 0, consumers: 0, published: 0, authorization: 0 }, unchanged: 0, conflicts: [] };
  const namespaces = new Set((await naming.listNamespaces()).map((n) => n.id));
  for (const item of items) {
    const ns = typeof item.namespaceId === 'string' && item.namespaceId !== '' ? item.namespaceId : namespace;
    if (!namespaces.has(ns)) {
      await naming.createNamespace({ id: ns });
      namespaces.add(ns);
      report.created.namespaces++;
    }
    const { input, spec } = parseImport('nacos', JSON.stringify(item));
    const { id: _nacosId, ...fields } = input as typeof input & { id?: string };
    const stored = await mcp.listVersions(ns, { name: input.name }).catch((err: unknown) => {
      if (err instanceof AppError && err.code === 'MCP_SERVER_NOT_FOUND') return undefined;
      throw err;
    });
    if (!stored) {
      await mcp.create(ns, fields, spec, true);
      report.created.mcpServers++;
      report.created.versions++;
      report.created.published++;
      continue;
    }
    const have = stored.versions.find((v) => v.version === spec.version);
    if (have && diffSpecs(have.spec, spec).length === 0) {
      report.unchanged++;
      if (stored.server.publishedVersion !== spec.version) {
        await mcp.publish(ns, { name: input.name }, spec.version);
        report.created.published++;
      }
      continue;
    }
    if (have && have.status !== 'draft') { report.conflicts.push(`${ns}/${input.name} version ${spec.version}: ${have.status} here with another content; left as it is`); continue; }
    await mcp.saveVersion(ns, { name: input.name }, {}, spec, true);
    report.created.versions++;
    report.created.published++;
  }
  return report;
}
