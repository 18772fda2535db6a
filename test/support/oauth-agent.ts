// An agent's side of the MCP authorization flow, for tests: the official SDK's OAuth client
// support with a provider that keeps its state as a desktop client would, consent given by
// driving the test OpenID provider's pages.
import assert from 'node:assert/strict';
import { Client as SdkClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { TestOidcProvider } from './oidc.js';

/** An agent's OAuth state, as a desktop client keeps it; consent is given by driving the provider's pages. */
export class AgentAuth implements OAuthClientProvider {
  info: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = '';
  /** The scope the client asked for (from the 401 challenge). */
  asked = '';
  code: Promise<string> | undefined;
  /** Whether the user consents to whatever the client asks for (a step-up) rather than to `scope`. */
  consentAsked = false;
  /** The scopes the user consents to: fewer than the client asks for, as a user may choose on a consent page. */
  constructor(private readonly idp: TestOidcProvider, private readonly scope: string, private readonly registerScope = scope, private readonly user = 'alice') {}
  get redirectUrl(): string {
    return 'http://127.0.0.1:1/callback';
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      redirect_uris: [this.redirectUrl], client_name: 'test agent', grant_types: ['authorization_code'], response_types: ['code'],
      token_endpoint_auth_method: 'none', scope: this.registerScope, application_type: 'native',
    } as OAuthClientMetadata;
  }
  clientInformation() { return this.info; }
  saveClientInformation(i: OAuthClientInformationMixed) { this.info = i; }
  tokens() { return this.saved; }
  saveTokens(t: OAuthTokens) { this.saved = t; }
  redirectToAuthorization(url: URL) {
    this.asked = url.searchParams.get('scope') ?? '';
    if (!this.consentAsked) url.searchParams.set('scope', this.scope);
    this.code = this.idp.authorize(url, this.user);
  }
  saveCodeVerifier(v: string) { this.verifier = v; }
  codeVerifier() { return this.verifier; }
}

/** Connect an SDK client through the full authorization flow; the client and its token. */
export async function connectWithOAuth(url: string, idp: TestOidcProvider, scope: string, opts: { registerScope?: string; user?: string } = {}): Promise<{ client: SdkClient; auth: AgentAuth; transport: StreamableHTTPClientTransport }> {
  const auth = new AgentAuth(idp, scope, opts.registerScope ?? scope, opts.user);
  const first = new StreamableHTTPClientTransport(new URL(url), { authProvider: auth });
  const probe = new SdkClient({ name: 'agent', version: '1' });
  await assert.rejects(probe.connect(first), UnauthorizedError);
  assert.ok(auth.code, 'the client was sent to the authorization server');
  await first.finishAuth(await auth.code);
  const client = new SdkClient({ name: 'agent', version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: auth });
  await client.connect(transport);
  return { client, auth, transport };
}

