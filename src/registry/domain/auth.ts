import { createHash, randomBytes, randomUUID, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { SignJWT, jwtVerify } from 'jose';
import { AppError, invalid } from '../../lib/errors.js';
import type { RegistryContext } from './context.js';
import { write } from './context.js';
import type { ApiToken, Role, User } from './model.js';

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number, opts: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;
const SCRYPT = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const USERNAME = /^[A-Za-z0-9_.@-]{1,128}$/;
/** Longest lifetime of an API token (100 years), so its expiry stays a storable time. */
const MAX_TOKEN_TTL_DAYS = 36_500;
const ROLES: readonly Role[] = ['admin', 'editor', 'viewer'];
const RANK: Record<Role, number> = { viewer: 1, editor: 2, admin: 3 };
/** Prefix of long-lived API tokens, so they are recognisable in logs and secret scanners. */
export const API_TOKEN_PREFIX = 'mgt_';

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

/** Who is calling, with the roles that decide what they may do. */
export interface Principal {
  username: string;
  /** Holds `admin` on `*`: manages users and every namespace. */
  globalAdmin: boolean;
  roles: { namespace: string; role: Role }[];
}

/** The principal used when registry auth is off: may do everything. */
export const ANONYMOUS_ADMIN: Principal = { username: 'anonymous', globalAdmin: true, roles: [{ namespace: '*', role: 'admin' }] };

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

/** Users, logins, tokens and API tokens of the registry. */
export class AuthService {
  private secret: Uint8Array | undefined;
  private readonly cache = new Map<string, { principal: Principal; until: number }>();

  constructor(private readonly ctx: RegistryContext, private readonly tokenTtlSeconds: number) {}

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
      await tx.insertUser({ username, passwordHash, createdAt: this.ctx.now(), roles: [{ namespace: '*', role: 'admin' }] });
      await tx.recordChange('*', 'user', username, 'upsert');
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

  /** Check a username and password; answers the same error for an unknown user and a wrong password. */
  async checkPassword(username: string, password: string): Promise<Principal> {
    const cacheKey = `pw:${username}:${sha256(password)}`;
    const hit = this.cached(cacheKey);
    if (hit) return hit;
    const user = await this.ctx.store.getUser(username);
    if (!user || !(await verifyPassword(password, user.passwordHash))) {
      throw new AppError('UNAUTHORIZED', 'unknown user or wrong password');
    }
    return this.remember(cacheKey, toPrincipal(user));
  }

  /** Log in: a signed access token valid for the configured TTL. */
  async login(username: string, password: string): Promise<{ accessToken: string; tokenTtl: number; principal: Principal }> {
    const principal = await this.checkPassword(username, password);
    const accessToken = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(username)
      .setIssuedAt().setExpirationTime(`${this.tokenTtlSeconds}s`).setIssuer('mcpgate').sign(await this.signingKey());
    return { accessToken, tokenTtl: this.tokenTtlSeconds, principal };
  }

  /** The principal behind an access token or an API token. */
  async verifyToken(token: string): Promise<Principal> {
    const cacheKey = `tk:${sha256(token)}`;
    const hit = this.cached(cacheKey);
    if (hit) return hit;
    let username: string;
    if (token.startsWith(API_TOKEN_PREFIX)) {
      const t = await this.ctx.store.getApiTokenByHash(sha256(token));
      if (!t || (t.expiresAt !== null && t.expiresAt < this.ctx.now())) throw new AppError('UNAUTHORIZED', 'the API token is unknown, revoked or expired');
      username = t.username;
    } else {
      try {
        const { payload } = await jwtVerify(token, await this.signingKey(), { issuer: 'mcpgate', algorithms: ['HS256'] });
        username = payload.sub ?? '';
      } catch {
        throw new AppError('UNAUTHORIZED', 'the access token is invalid or expired; log in again');
      }
    }
    const user = await this.ctx.store.getUser(username);
    if (!user) throw new AppError('UNAUTHORIZED', 'the token belongs to a user that no longer exists');
    return this.remember(cacheKey, toPrincipal(user));
  }

  private cached(key: string): Principal | undefined {
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now()) return hit.principal;
    if (hit) this.cache.delete(key);
    return undefined;
  }

  /** Principals are cached briefly (5 s) so a role change or revocation applies within seconds. */
  private remember(key: string, principal: Principal): Principal {
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { principal, until: Date.now() + 5000 });
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
      await tx.insertUser({ ...user, passwordHash });
      await tx.recordChange('*', 'user', user.username, 'upsert');
      return user;
    }, 'USER_EXISTS');
  }

  async updateUser(username: string, input: { password?: string; roles?: unknown }): Promise<User> {
    if (input.password !== undefined && (typeof input.password !== 'string' || input.password.length < 8)) throw invalid('password', 'must be at least 8 characters');
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
      return { username, createdAt: u.createdAt, roles: roles ?? u.roles };
    });
    this.cache.clear();
    return user;
  }

  async deleteUser(username: string): Promise<void> {
    await write(this.ctx, async (tx) => {
      if (!(await tx.getUser(username))) throw new AppError('USER_NOT_FOUND', `user '${username}' does not exist`, 'username');
      await tx.deleteUser(username);
      if (!(await this.anyGlobalAdmin(tx))) throw new AppError('LAST_ADMIN', 'deleting this user would leave no global admin', 'username');
      await tx.recordChange('*', 'user', username, 'delete');
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
    });
    return { token, info };
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
    });
    this.cache.clear();
  }
}

function toPrincipal(u: User): Principal {
  return { username: u.username, roles: u.roles, globalAdmin: u.roles.some((r) => r.namespace === '*' && r.role === 'admin') };
}
