/**
 * A real OpenID provider for tests: `oidc-provider` (a certified implementation) on a loopback
 * port, with dynamic client registration, PKCE, resource indicators (JWT access tokens whose
 * `aud` is the resource), introspection, and RFC 8693 token exchange registered as an extra
 * grant type of the same provider. `authorize` drives its login and consent pages over HTTP as
 * a user's browser would (consent automated).
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { exportJWK, generateKeyPair, jwtVerify, createLocalJWKSet } from 'jose';
import type { JWK } from 'jose';
import Provider from 'oidc-provider';

/** The grant type of RFC 8693. */
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** A running provider. */
export interface TestOidcProvider {
  issuer: string;
  provider: Provider;
  /** The gateway's confidential client (introspection, token exchange). */
  gatewayClient: { clientId: string; clientSecret: string };
  /** The provider's private signing key (to forge tokens signed by a trusted key in tests). */
  signingKey: JWK;
  /** Token exchanges the provider answered. */
  exchanges: { audience: string | undefined; subject: string }[];
  /** Follow an authorization URL through login and consent as `user`; the redirect's `code`. */
  authorize(url: URL | string, user?: string): Promise<string>;
  close(): Promise<void>;
}

/** Start a provider on a free loopback port; `scopes` are the scopes resources may be granted. */
export async function startOidcProvider(opts: { scopes: string[] }): Promise<TestOidcProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const issuer = `http://127.0.0.1:${port}`;
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'test-key-1', alg: 'ES256', use: 'sig' };
  const gatewayClient = { clientId: 'mcpgate-gateway', clientSecret: 'gateway-client-secret-for-tests-only-0123456789' };
  const resourceScope = opts.scopes.join(' ');
  const provider = new Provider(issuer, {
    clients: [{
      client_id: gatewayClient.clientId, client_secret: gatewayClient.clientSecret,
      grant_types: [TOKEN_EXCHANGE, 'client_credentials'], response_types: [], redirect_uris: [], scope: resourceScope, token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: { keys: [signingKey] },
    scopes: ['openid', 'offline_access', ...opts.scopes],
    findAccount: (_ctx, id) => Promise.resolve({ accountId: id, claims: () => Promise.resolve({ sub: id }) }),
    pkce: { required: () => true },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, ClientCredentials: 600, AuthorizationCode: 60, RefreshToken: 3600, IdToken: 600 },
    clientDefaults: { grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none', id_token_signed_response_alg: 'ES256' },
    features: {
      registration: { enabled: true },
      introspection: { enabled: true },
      clientCredentials: { enabled: true },
      devInteractions: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => Promise.resolve(oneOf ? oneOf[0]! : undefined as unknown as string),
        useGrantedResource: () => Promise.resolve(true),
        getResourceServerInfo: (_ctx, resource) => Promise.resolve({
          scope: resourceScope, audience: resource, accessTokenTTL: 600,
          // Resources whose URI holds `/opaque` get opaque tokens (checked by introspection); the others JWTs.
          ...(resource.includes('/opaque') ? { accessTokenFormat: 'opaque' as const } : { accessTokenFormat: 'jwt' as const, jwt: { sign: { alg: 'ES256' as const } } }),
        }),
      },
    },
  });
  // Quiet: errors a test provokes on purpose would be logged.
  provider.on('server_error', () => undefined);

  const exchanges: { audience: string | undefined; subject: string }[] = [];
  const ownKeys = createLocalJWKSet({ keys: [{ ...signingKey, d: undefined }] as JWK[] });
  provider.registerGrantType(TOKEN_EXCHANGE, async (ctx) => {
    const params = ctx.oidc.params as Record<string, string | undefined>;
    const { payload } = await jwtVerify(params.subject_token ?? '', ownKeys, { issuer }).catch(() => ({ payload: undefined }));
    if (!payload?.sub) {
      ctx.status = 400;
      ctx.body = { error: 'invalid_grant', error_description: 'subject_token is not a valid access token of this issuer' };
      return;
    }
    const audience = params.audience ?? params.resource;
    exchanges.push({ audience, subject: payload.sub });
    const token = new ctx.oidc.provider.AccessToken({
      accountId: payload.sub, client: ctx.oidc.client, gty: 'token-exchange', grantId: `exchange-${payload.sub}`,
      scope: params.scope ?? undefined,
      resourceServer: { audience: audience ?? 'backend', accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } }, scope: params.scope ?? '' },
    } as never);
    const value = await token.save();
    ctx.body = { access_token: value, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer', expires_in: token.expiration };
  }, ['subject_token', 'subject_token_type', 'requested_token_type', 'audience', 'resource', 'actor_token', 'actor_token_type']);

  server.on('request', provider.callback());

  /** A cookie jar of one browser, for one authorization. */
  async function authorize(url: URL | string, user = 'alice'): Promise<string> {
    const jar = new Map<string, string>();
    const cookies = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const keep = (res: Response) => {
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const eq = pair!.indexOf('=');
        const name = pair!.slice(0, eq);
        const value = pair!.slice(eq + 1);
        if (/expires=Thu, 01 Jan 1970/i.test(c) || value === '') jar.delete(name);
        else jar.set(name, value);
      }
    };
    let next = new URL(url);
    for (let hop = 0; hop < 20; hop++) {
      let res = await fetch(next, { redirect: 'manual', headers: { cookie: cookies() } });
      keep(res);
      if (res.status === 200 && next.pathname.startsWith('/interaction/')) {
        const html = await res.text();
        const uid = next.pathname.split('/')[2]!;
        const prompt = /name="prompt" value="([a-z]+)"/.exec(html)?.[1];
        const form: Record<string, string> = prompt === 'login' ? { prompt: 'login', login: user, password: 'any' } : { prompt: 'consent' };
        res = await fetch(new URL(`/interaction/${uid}`, issuer), {
          method: 'POST', redirect: 'manual', body: new URLSearchParams(form).toString(),
          headers: { cookie: cookies(), 'content-type': 'application/x-www-form-urlencoded' },
        });
        keep(res);
      }
      const location = res.headers.get('location');
      if (!location) throw new Error(`authorization stopped at ${next.href} with ${res.status}: ${(await res.text()).slice(0, 300)}`);
      next = new URL(location, next);
      const code = next.origin !== issuer ? next.searchParams.get('code') : null;
      const error = next.origin !== issuer ? next.searchParams.get('error') : null;
      if (error) throw new Error(`authorization failed: ${error} ${next.searchParams.get('error_description') ?? ''}`);
      if (code) return code;
    }
    throw new Error('authorization did not finish in 20 redirects');
  }

  return {
    issuer, provider, gatewayClient, signingKey, exchanges, authorize,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
