import { createHash, createHmac, randomBytes, randomUUID, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { SignJWT, jwtVerify } from 'jose';
import { AppError, TooManyAttemptsError, invalid, missing } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { UserRecord } from '../store/store.js';
import { audit } from './audit.js';
import type { RegistryContext } from './context.js';
import { write } from './context.js';
import { LoginThrottle } from './login-throttle.js';
import type { LoginThrottleOptions } from './login-throttle.js';
import type { ApiToken, Role, User } from '../../model/model.js';

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number, opts: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;
const SCRYPT = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const USERNAME = /^[A-Za-z0-9_.@-]{1,128}$/;
/** Longest lifetime of an API token (100 years), so its expiry stays a storable time. */
const MAX_TOKEN_TTL_DAYS = 36_500;
const ROLES: readonly Role[] = ['admin', 'editor', 'viewer', 'gateway'];
/** `gateway` ranks as `viewer` (reads only); what sets it apart is `canReadSecrets`. */
const RANK: Record<Role, number> = { viewer: 1, gateway: 1, editor: 2, admin: 3 };
/** Roles that read secrets: those that write, and gateways (which must send them to backends). */
const READS_SECRETS: ReadonlySet<Role> = new Set(['editor', 'admin', 'gateway']);
/** Prefix of long-lived API tokens, so they are recognisable in logs and secret scanners. */
export const API_TOKEN_PREFIX = 'mgt_';

/** The user that owns the token provisioned from `auth.gatewayToken`. */
export const GATEWAY_USER = 'gateway';

/** Hash a password with scrypt: `scrypt$N$r$p$salt$hash` (base64). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Check a password against a `hashPassword` hash in constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: SCRYPT.maxmem });
  return timingSafeEqual(expected, actual);
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The key of the credential cache's password entries, new in every process. */
const CACHE_KEY = randomBytes(32);

let dummyHash: Promise<string> | undefined;
/** A hash no password matches (a random one's), checked for unknown users. */
function unknownUserHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  return dummyHash;
}

/** Who is calling, with the roles that decide what they may do. */
export interface Principal {
  username: string;
  /** Holds `admin` on `*`: manages users and every namespace. */
  globalAdmin: boolean;
  roles: { namespace: string; role: Role }[];
  /** The API token the caller authenticated with, if any (audit entries name it). */
  token?: { id: string; name: string };
  /** Set on the principal of everyone when registry auth is off. */
  anonymous?: true;
}

/** The principal used when registry auth is off: may do everything. */
export const ANONYMOUS_ADMIN: Principal = { username: 'anonymous', globalAdmin: true, roles: [{ namespace: '*', role: 'admin' }], anonymous: true };

/** The role a principal holds in a namespace (a `*` grant applies to all), if any. */
export function roleIn(p: Principal, namespace: string): Role | undefined {
  let best: Role | undefined;
  for (const r of p.roles) {
    if ((r.namespace === namespace || r.namespace === '*') && (!best || RANK[r.role] > RANK[best])) best = r.role;
  }
  return best;
}

/** Whether a principal may see a namespace at all. */
export function canSee(p: Principal, namespace: string): boolean {
  return roleIn(p, namespace) !== undefined;
}

/**
 * Whether a principal reads the secrets of a namespace's MCP servers (credentials, secret
 * headers and config): with write access (`editor`, `admin`) or the `gateway` role there or on
 * `*`. Everyone else reads `REDACTED` in their place.
 */
export function canReadSecrets(p: Principal, namespace: string): boolean {
  return p.roles.some((r) => (r.namespace === namespace || r.namespace === '*') && READS_SECRETS.has(r.role));
}

/**
 * Require at least `need` in `namespace`. A namespace the caller holds no role in answers
 * NAMESPACE_NOT_FOUND, so that its existence does not leak across tenants.
 */
export function authorize(p: Principal, namespace: string, need: Role): void {
  const have = roleIn(p, namespace);
  if (!have) throw new AppError('NAMESPACE_NOT_FOUND', `namespace '${namespace}' does not exist`, 'namespaceId');
  if (RANK[have] < RANK[need]) throw new AppError('FORBIDDEN', `user '${p.username}' is ${have} in namespace '${namespace}'; this needs ${need}`);
}

/** Require a global admin (user management, namespace creation). */
export function requireGlobalAdmin(p: Principal): void {
  if (!p.globalAdmin) throw new AppError('FORBIDDEN', `user '${p.username}' is not a global admin`);
}

function checkRoles(roles: unknown): { namespace: string; role: Role }[] {
  if (!Array.isArray(roles)) throw invalid('roles', 'must be an array of {namespace, role}');
  const seen = new Set<string>();
  return roles.map((r: unknown, i) => {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw invalid(`roles[${i}]`, 'must be an object {namespace, role}');
    const ns = (r as { namespace?: unknown }).namespace;
    const role = (r as { role?: unknown }).role;
    if (typeof ns !== 'string' || ns === '') throw invalid(`roles[${i}].namespace`, "must be a namespace id or '*'");
    if (!ROLES.includes(role as Role)) throw invalid(`roles[${i}].role`, `must be one of ${ROLES.join(', ')}`);
    if (seen.has(ns)) throw invalid(`roles[${i}].namespace`, `'${ns}' is given a role twice`);
    seen.add(ns);
    return { namespace: ns, role: role as Role };
  });
}

/** Options of the AuthService besides the token lifetime. */
export interface AuthOptions {
  /** Limits of the login throttle (per user and client address). */
  throttle?: LoginThrottleOptions;
  /** Where wrong passwords are logged, with the user and the client address. */
  logger?: Pick<Logger, 'warn'>;
}

/** What a login answers: a signed access token and the principal behind it. */
export interface LoginResult {
  accessToken: string;
  tokenTtl: number;
  principal: Principal;
}

/** How long a verified credential is trusted without asking the database again, ms: the bound on revocation across nodes. */
export const CREDENTIAL_CACHE_MS = 5000;

/** Users, logins, tokens and API tokens of the registry. */
export class AuthService {
  private secret: Uint8Array | undefined;
  private readonly cache = new Map<string, { principal: Principal; until: number }>();
  private readonly throttle: LoginThrottle;
  private readonly log: Pick<Logger, 'warn'> | undefined;

  constructor(private readonly ctx: RegistryContext, private readonly tokenTtlSeconds: number, options: AuthOptions = {}) {
    this.throttle = new LoginThrottle(options.throttle);
    this.log = options.logger;
  }

  /**
   * Create the first admin when the registry has no users: with `password` when given,
   * else a generated one, returned so the caller can print it once.
   */
  async bootstrap(username: string, password: string | undefined): Promise<{ created: boolean; password?: string }> {
    await this.signingKey();
    if ((await this.ctx.store.listUsers()).length > 0) return { created: false };
    const pw = password || randomBytes(12).toString('base64url');
    const passwordHash = await hashPassword(pw);
    const created = await write(this.ctx, async (tx) => {
      if ((await tx.listUsers()).length > 0) return false;
      const user: User = { username, createdAt: this.ctx.now(), roles: [{ namespace: '*', role: 'admin' }] };
      await tx.insertUser({ ...user, id: randomUUID(), credentialGeneration: 0, passwordHash });
      await tx.recordChange('*', 'user', username, 'upsert');
      await audit(this.ctx, tx, { namespace: '*', entity: 'user', entityId: username, entityName: username, action: 'user.create', after: user, secretsChanged: ['password'] });
      return true;
    });
    return created ? { created, ...(password ? {} : { password: pw }) } : { created: false };
  }

  private async signingKey(): Promise<Uint8Array> {
    if (this.secret) return this.secret;
    let value = await this.ctx.store.getSetting('jwt_secret');
    if (!value) {
      value = await write(this.ctx, async (tx) => {
        const existing = await tx.getSetting('jwt_secret');
        if (existing) return existing;
        const fresh = randomBytes(32).toString('base64');
        await tx.setSetting('jwt_secret', fresh);
        return fresh;
      });
    }
    this.secret = Buffer.from(value, 'base64');
    return this.secret;
  }

  /**
   * The user behind a username and password, checked against the login throttle first: while
   * `client` (an address) must wait, even the right password is refused (TOO_MANY_LOGIN_ATTEMPTS).
   * A wrong password is logged once, with the user and the address. Answers the same error for
   * an unknown user and a wrong password.
   */
  private async authenticate(username: string, password: string, client: string): Promise<UserRecord> {
    const wait = this.throttle.begin(username, client);
    if (wait > 0) throw throttled(wait);
    let user: UserRecord | undefined;
    let ok = false;
    try {
      user = await this.ctx.store.getUser(username);
      // An unknown user costs the same scrypt as a known one: the answer's timing does not tell which names exist.
      ok = (await verifyPassword(password, user?.passwordHash ?? (await unknownUserHash()))) && user !== undefined;
    } catch (err) {
      this.throttle.cancel(username, client);
      throw err;
    }
    if (!user || !ok) {
      const retryAfterSeconds = Math.ceil(this.throttle.retryAfterMs(username, client) / 1000);
      this.log?.warn({ user: username.slice(0, 128), address: client, knownUser: !!user, retryAfterSeconds }, 'login failed: unknown user or wrong password');
      throw new AppError('UNAUTHORIZED', 'unknown user or wrong password');
    }
    this.throttle.succeeded(username, client);
    return user;
  }

  /** Check a username and password sent with a request (as Nacos clients do), throttled per user and `client` address. */
  async checkPassword(username: string, password: string, client: string): Promise<Principal> {
    const wait = this.throttle.retryAfterMs(username, client);
    if (wait > 0) throw throttled(wait);
    // Keyed by an HMAC under a key of this process: the cache holds nothing a fast offline guess could test against.
    const cacheKey = `pw:${username}:${createHmac('sha256', CACHE_KEY).update(password).digest('hex')}`;
    const hit = this.cached(cacheKey);
    if (hit) return hit;
    return this.remember(cacheKey, toPrincipal(await this.authenticate(username, password, client)));
  }

  /** Log in from `client` (an address, for the throttle): a signed access token valid for the configured TTL. */
  async login(username: string, password: string, client: string): Promise<LoginResult> {
    return this.issue(await this.authenticate(username, password, client));
  }

  /** A fresh access token for a user (after they changed their own password, which revoked the one they used). */
  async reissue(username: string): Promise<LoginResult> {
    const user = await this.ctx.store.getUser(username);
    if (!user) throw new AppError('USER_NOT_FOUND', `user '${username}' does not exist`, 'username');
    return this.issue(user);
  }

  /** An access token bound to the user's id and credential generation: deleting the user or changing the password revokes it. */
  private async issue(user: UserRecord): Promise<LoginResult> {
    const accessToken = await new SignJWT({ uid: user.id, gen: user.credentialGeneration }).setProtectedHeader({ alg: 'HS256' }).setSubject(user.username)
      .setIssuedAt().setExpirationTime(`${this.tokenTtlSeconds}s`).setIssuer('mcpgate').sign(await this.signingKey());
    return { accessToken, tokenTtl: this.tokenTtlSeconds, principal: toPrincipal(user) };
  }

  /**
   * The principal behind an access token or an API token. An access token must name the user's
   * current id and credential generation; an API token must still exist (deleting the user
   * deletes them). Verified credentials are cached for CREDENTIAL_CACHE_MS.
   */
  async verifyToken(token: string): Promise<Principal> {
    const cacheKey = `tk:${sha256(token)}`;
    const hit = this.cached(cacheKey);
    if (hit) return hit;
    let username: string;
    let binding: { uid: unknown; gen: unknown } | undefined;
    let via: Principal['token'];
    if (token.startsWith(API_TOKEN_PREFIX)) {
      const t = await this.ctx.store.getApiTokenByHash(sha256(token));
      if (!t || (t.expiresAt !== null && t.expiresAt < this.ctx.now())) throw new AppError('UNAUTHORIZED', 'the API token is unknown, revoked or expired');
      username = t.username;
      via = { id: t.id, name: t.name };
    } else {
      try {
        const { payload } = await jwtVerify(token, await this.signingKey(), { issuer: 'mcpgate', algorithms: ['HS256'] });
        username = payload.sub ?? '';
        binding = { uid: payload.uid, gen: payload.gen };
      } catch {
        throw new AppError('UNAUTHORIZED', 'the access token is invalid or expired; log in again');
      }
    }
    const user = await this.ctx.store.getUser(username);
    if (!user) throw new AppError('UNAUTHORIZED', 'the token belongs to a user that no longer exists');
    if (binding && (binding.uid !== user.id || binding.gen !== user.credentialGeneration)) {
      throw new AppError('UNAUTHORIZED', 'the access token was revoked (the password was changed or the user deleted); log in again');
    }
    return this.remember(cacheKey, via ? { ...toPrincipal(user), token: via } : toPrincipal(user));
  }

  private cached(key: string): Principal | undefined {
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now()) return hit.principal;
    if (hit) this.cache.delete(key);
    return undefined;
  }

  /** Principals are cached briefly (CREDENTIAL_CACHE_MS) so a role change or revocation on another node applies within seconds. */
  private remember(key: string, principal: Principal): Principal {
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { principal, until: Date.now() + CREDENTIAL_CACHE_MS });
    return principal;
  }

  async listUsers(): Promise<User[]> {
    return this.ctx.store.listUsers();
  }

  async createUser(input: { username: string; password: string; roles?: unknown }): Promise<User> {
    if (!USERNAME.test(input.username)) throw invalid('username', 'must be 1-128 of letters, digits, _ . @ -');
    if (typeof input.password !== 'string' || input.password.length < 8) throw invalid('password', 'must be at least 8 characters');
    const roles = checkRoles(input.roles ?? []);
    const passwordHash = await hashPassword(input.password);
    return write(this.ctx, async (tx) => {
      if (await tx.getUser(input.username)) throw new AppError('USER_EXISTS', `user '${input.username}' already exists`, 'username');
      for (const r of roles) {
        if (r.namespace !== '*' && !(await tx.getNamespace(r.namespace))) throw new AppError('NAMESPACE_NOT_FOUND', `namespace '${r.namespace}' does not exist`, 'roles');
      }
      const user = { username: input.username, createdAt: this.ctx.now(), roles };
      await tx.insertUser({ ...user, id: randomUUID(), credentialGeneration: 0, passwordHash });
      await tx.recordChange('*', 'user', user.username, 'upsert');
      await audit(this.ctx, tx, { namespace: '*', entity: 'user', entityId: user.username, entityName: user.username, action: 'user.create', after: user, secretsChanged: ['password'] });
      return user;
    }, 'USER_EXISTS');
  }

  /**
   * Change a user's roles or password. `by` is who asks: changing your own password needs your
   * current one (`currentPassword`, checked through the login throttle); an admin resetting
   * another user's does not. A new password revokes the user's login tokens on every node.
   */
  async updateUser(username: string, input: { password?: string; currentPassword?: string; roles?: unknown }, by: { username: string; client: string }): Promise<User> {
    if (input.password !== undefined && (typeof input.password !== 'string' || input.password.length < 8)) throw invalid('password', 'must be at least 8 characters');
    if (input.password !== undefined && by.username === username) {
      if (typeof input.currentPassword !== 'string' || input.currentPassword === '') throw missing('currentPassword');
      try {
        await this.authenticate(username, input.currentPassword, by.client);
      } catch (err) {
        if (err instanceof AppError && err.code === 'UNAUTHORIZED') throw new AppError('WRONG_CURRENT_PASSWORD', 'currentPassword: your current password is wrong', 'currentPassword');
        throw err;
      }
    }
    const roles = input.roles === undefined ? undefined : checkRoles(input.roles);
    const passwordHash = input.password === undefined ? undefined : await hashPassword(input.password);
    const user = await write(this.ctx, async (tx) => {
      const u = await tx.getUser(username);
      if (!u) throw new AppError('USER_NOT_FOUND', `user '${username}' does not exist`, 'username');
      if (passwordHash) await tx.updateUserPassword(username, passwordHash);
      if (roles) {
        await tx.setUserRoles(username, roles);
        if (!(await this.anyGlobalAdmin(tx))) throw new AppError('LAST_ADMIN', 'this change would leave no global admin', 'roles');
      }
      await tx.recordChange('*', 'user', username, 'upsert');
      const next: User = { username, createdAt: u.createdAt, roles: roles ?? u.roles };
      await audit(this.ctx, tx, {
        namespace: '*', entity: 'user', entityId: username, entityName: username, action: 'user.update',
        before: { username, createdAt: u.createdAt, roles: u.roles }, after: next, secretsChanged: passwordHash ? ['password'] : [],
      });
      return next;
    });
    this.cache.clear();
    return user;
  }

  async deleteUser(username: string): Promise<void> {
    await write(this.ctx, async (tx) => {
      const u = await tx.getUser(username);
      if (!u) throw new AppError('USER_NOT_FOUND', `user '${username}' does not exist`, 'username');
      await tx.deleteUser(username);
      if (!(await this.anyGlobalAdmin(tx))) throw new AppError('LAST_ADMIN', 'deleting this user would leave no global admin', 'username');
      await tx.recordChange('*', 'user', username, 'delete');
      await audit(this.ctx, tx, { namespace: '*', entity: 'user', entityId: username, entityName: username, action: 'user.delete', before: { username, createdAt: u.createdAt, roles: u.roles } });
    });
    this.cache.clear();
  }

  private async anyGlobalAdmin(tx: { listUsers(): Promise<User[]> }): Promise<boolean> {
    return (await tx.listUsers()).some((u) => u.roles.some((r) => r.namespace === '*' && r.role === 'admin'));
  }

  /** Create an API token for a user; the secret is returned once and stored only as a hash. */
  async createApiToken(username: string, name: string, ttlDays?: number): Promise<{ token: string; info: ApiToken }> {
    if (!name || name.length > 256) throw invalid('name', 'must be 1-256 characters');
    if (ttlDays !== undefined && !(Number.isInteger(ttlDays) && ttlDays > 0 && ttlDays <= MAX_TOKEN_TTL_DAYS)) {
      throw invalid('ttlDays', `must be an integer from 1 to ${MAX_TOKEN_TTL_DAYS}`);
    }
    const token = `${API_TOKEN_PREFIX}${randomBytes(24).toString('base64url')}`;
    const t = this.ctx.now();
    const info: ApiToken = { id: randomUUID(), username, name, createdAt: t, expiresAt: ttlDays ? t + ttlDays * 86_400_000 : null, lastUsedAt: null };
    await write(this.ctx, async (tx) => {
      await tx.insertApiToken({ ...info, tokenHash: sha256(token) });
      await tx.recordChange('*', 'token', info.id, 'upsert');
      await audit(this.ctx, tx, { namespace: '*', entity: 'token', entityId: info.id, entityName: name, action: 'token.create', after: info });
    });
    return { token, info };
  }

  /**
   * Make sure `token` (the `auth.gatewayToken` option) is an API token of the user
   * `GATEWAY_USER` (created with the `gateway` role on `*` and an unusable random password when
   * missing), so that a deployment hands the same Secret to registries and gateways with no
   * manual step. Idempotent, and safe when several nodes start at once. Answers whether it was created.
   */
  async provisionGatewayToken(token: string): Promise<boolean> {
    if (!token.startsWith(API_TOKEN_PREFIX)) throw invalid('auth.gatewayToken', `must start with ${API_TOKEN_PREFIX}`);
    const tokenHash = sha256(token);
    if (await this.ctx.store.getApiTokenByHash(tokenHash)) return false;
    const passwordHash = await hashPassword(randomBytes(24).toString('base64url'));
    try {
      return await write(this.ctx, async (tx) => {
        if (await tx.getApiTokenByHash(tokenHash)) return false;
        if (!(await tx.getUser(GATEWAY_USER))) {
          const user = { username: GATEWAY_USER, createdAt: this.ctx.now(), roles: [{ namespace: '*', role: 'gateway' as const }] };
          await tx.insertUser({ ...user, id: randomUUID(), credentialGeneration: 0, passwordHash });
          await tx.recordChange('*', 'user', GATEWAY_USER, 'upsert');
          await audit(this.ctx, tx, { namespace: '*', entity: 'user', entityId: GATEWAY_USER, entityName: GATEWAY_USER, action: 'user.create', after: user, secretsChanged: ['password'] });
        }
        const t = this.ctx.now();
        const info: ApiToken = { id: randomUUID(), username: GATEWAY_USER, name: 'auth.gatewayToken (provisioned at start)', createdAt: t, expiresAt: null, lastUsedAt: null };
        await tx.insertApiToken({ ...info, tokenHash });
        await tx.recordChange('*', 'token', info.id, 'upsert');
        await audit(this.ctx, tx, { namespace: '*', entity: 'token', entityId: info.id, entityName: info.name, action: 'token.create', after: info });
        return true;
      });
    } catch (err) {
      // Another node provisioned it at the same moment.
      if (await this.ctx.store.getApiTokenByHash(tokenHash)) return false;
      throw err;
    }
  }

  async listApiTokens(username?: string): Promise<ApiToken[]> {
    return this.ctx.store.listApiTokens(username);
  }

  /** Revoke a token; `owner` limits it to that user's tokens (non-admins). */
  async revokeApiToken(id: string, owner?: string): Promise<void> {
    await write(this.ctx, async (tx) => {
      const t = (await tx.listApiTokens(owner)).find((x) => x.id === id);
      if (!t) throw new AppError('TOKEN_NOT_FOUND', `API token '${id}' does not exist`, 'id');
      await tx.deleteApiToken(id);
      await tx.recordChange('*', 'token', id, 'delete');
      await audit(this.ctx, tx, { namespace: '*', entity: 'token', entityId: id, entityName: t.name, action: 'token.revoke', before: t });
    });
    this.cache.clear();
  }
}

function throttled(waitMs: number): TooManyAttemptsError {
  const seconds = Math.ceil(waitMs / 1000);
  return new TooManyAttemptsError(`too many wrong passwords for this user or from this address; try again in ${seconds} s`, seconds);
}

function toPrincipal(u: User): Principal {
  return { username: u.username, roles: u.roles, globalAdmin: u.roles.some((r) => r.namespace === '*' && r.role === 'admin') };
}
