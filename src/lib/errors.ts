/**
 * Every error the registry and gateway answer with, declared once: a stable code, the HTTP
 * status, and what it means. `docs/errors.md` lists this table; the HTTP layers map an
 * `AppError` to a response in one place each (native JSON, Nacos envelope, Nacos plain text).
 */
export const ERRORS = {
  VALIDATION_FAILED: { status: 400, nacos: 20002, doc: 'A parameter or body field has a wrong type, format or value; `field` names it.' },
  ISSUER_METADATA_INVALID: { status: 400, nacos: 20002, doc: "An authorization setting names an issuer whose metadata (RFC 8414, then OpenID discovery, under `/.well-known/`) could not be read, or that is inconsistent: it names another issuer, or publishes no `jwks_uri` where tokens are JWTs; `field` names the issuer (`authorization.issuers[0].issuer`). Checked on every save and load of the settings (namespace and server settings, backup imports, a gateway's `namespaceAuthorization` at start); nothing was saved (the gateway does not start). docs/security.md" },
  PARAMETER_MISSING: { status: 400, nacos: 10000, doc: 'A required parameter is absent; `field` names it.' },
  INVALID_JSON: { status: 400, nacos: 20002, doc: 'A body or a JSON-valued parameter (metadata, specifications) is not valid JSON.' },
  JSON_TOO_DEEP: { status: 400, nacos: 20002, doc: 'A JSON body, a JSON-valued parameter or an imported definition nests arrays and objects deeper than 64 levels; refused before it is parsed.' },
  INVALID_SCHEMA: { status: 400, nacos: 20002, doc: "A tool's inputSchema or outputSchema is not a valid JSON Schema (draft-07 or 2020-12); `field` gives the tool and the path." },
  INVALID_TEMPLATE: { status: 400, nacos: 20002, doc: "A tool's request or response template does not parse; `field` gives the tool and template, the message line and column." },
  OPENAPI_INVALID: { status: 400, nacos: 20002, doc: 'An imported OpenAPI document cannot be converted: not OpenAPI 3.0/3.1 (Swagger 2 is refused), an external or dangling `$ref`, schemas that expand beyond 100 000 nodes, more than 1000 operations; `field` names the place (`paths./pets.get.parameters[0].in`).' },
  SERVER_JSON_INVALID: { status: 400, nacos: 20002, doc: 'An imported `server.json` (MCP Registry format) is not usable: a missing or malformed name, description or version, or neither a remote nor a package mcpgate can front; `field` names it.' },
  IMPORT_URL_REFUSED: { status: 400, nacos: 20002, doc: 'An import URL is not http(s), or names a loopback, private, link-local or cloud-metadata address (SSRF protection; `importAllowPrivateUrls` allows private and loopback ones); `field` is `url`.' },
  IMPORT_FETCH_TOO_LARGE: { status: 413, nacos: 20002, doc: 'The document at an import URL is larger than `importMaxBytes` (5 MiB by default); nothing was imported.' },
  IMPORT_FETCH_FAILED: { status: 502, nacos: 30000, doc: 'The document at an import URL could not be fetched: DNS, connection or TLS failure, too many redirects, or a non-2xx answer (the message gives which).' },
  IMPORT_FETCH_TIMEOUT: { status: 504, nacos: 30000, doc: 'The document at an import URL did not arrive within `importTimeoutSeconds` (15 s by default).' },
  VIRTUAL_CYCLE: { status: 400, nacos: 20002, doc: 'A virtual server would contain itself, directly or through another virtual server; `field` names the member (`virtual.members[0].server`).' },
  VIRTUAL_NAME_CONFLICT: { status: 409, nacos: 20005, doc: 'Two members of a virtual server would give agents the same tool name; the message names both members and tools, `field` the later member. Rename one (`rename`) or use naming `prefix`.' },
  INSTANCE_KIND_CONFLICT: { status: 400, nacos: 20002, doc: 'A service holds either ephemeral or persistent instances, not both.' },
  PAYLOAD_TOO_LARGE: { status: 413, nacos: 20002, doc: 'The request body is over the limit (1 MiB on the registry).' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, nacos: 20002, doc: 'The body has a content type the endpoint does not take.' },
  UNAUTHORIZED: { status: 401, nacos: 40001, doc: 'No valid credential (token, API token or username/password) was given.' },
  FORBIDDEN: { status: 403, nacos: 40003, doc: "The caller's role does not allow this action in this namespace." },
  FORBIDDEN_HOST: { status: 403, nacos: 40003, doc: 'The `Host` header names a host the registry does not answer to (DNS rebinding protection); list further names in `allowedHosts`.' },
  FORBIDDEN_ORIGIN: { status: 403, nacos: 40003, doc: "A browser sent the request from another site (its `Origin` or `Sec-Fetch-Site`); list trusted origins in `allowedOrigins`." },
  WRONG_CURRENT_PASSWORD: { status: 403, nacos: 40003, doc: 'Changing your own password needs your current password (`currentPassword`), and the one given is wrong.' },
  NAMESPACE_NOT_FOUND: { status: 404, nacos: 20004, doc: 'The namespace does not exist (or the caller may not see it).' },
  SERVICE_NOT_FOUND: { status: 404, nacos: 20004, doc: 'The service does not exist in that namespace and group.' },
  INSTANCE_NOT_FOUND: { status: 404, nacos: 20404, doc: 'The instance (ip, port, cluster) is not registered in that service.' },
  MCP_SERVER_NOT_FOUND: { status: 404, nacos: 50000, doc: 'The MCP server does not exist in that namespace.' },
  VERSION_NOT_FOUND: { status: 404, nacos: 50001, doc: 'The MCP server has no such version.' },
  USER_NOT_FOUND: { status: 404, nacos: 20004, doc: 'The user does not exist.' },
  TOKEN_NOT_FOUND: { status: 404, nacos: 20004, doc: 'The API token does not exist.' },
  CONSUMER_NOT_FOUND: { status: 404, nacos: 20004, doc: 'The consumer (gateway API key) does not exist in that namespace.' },
  ROUTE_NOT_FOUND: { status: 404, nacos: 20004, doc: 'No endpoint at that method and path.' },
  NAMESPACE_EXISTS: { status: 409, nacos: 20005, doc: 'A namespace with that id already exists.' },
  SERVICE_EXISTS: { status: 409, nacos: 20005, doc: 'A service with that name already exists in the namespace and group.' },
  MCP_SERVER_EXISTS: { status: 409, nacos: 20005, doc: 'An MCP server with that name already exists in the namespace.' },
  VERSION_EXISTS: { status: 409, nacos: 20005, doc: 'That version exists and is published or archived: versions are immutable once published through the native API (the Nacos v3 `PUT` overwrites it as a new revision instead).' },
  CONSUMER_EXISTS: { status: 409, nacos: 20005, doc: 'A consumer with that name already exists in the namespace.' },
  USER_EXISTS: { status: 409, nacos: 20005, doc: 'A user with that name already exists.' },
  NAMESPACE_NOT_EMPTY: { status: 409, nacos: 20005, doc: 'The namespace still holds services or MCP servers; delete them first.' },
  SERVICE_NOT_EMPTY: { status: 409, nacos: 20005, doc: 'The service still has instances; deregister them first.' },
  VERSION_CHANGED: { status: 412, nacos: 20005, doc: 'The version is not the one the `If-Match` header names: someone else changed (or deleted) it since you read it. Reload it (its `ETag`) and apply your change again.' },
  VERSION_PUBLISHED: { status: 409, nacos: 20005, doc: 'The version is the published one; publish or roll back to another first.' },
  CONFLICT: { status: 409, nacos: 20005, doc: 'A concurrent write created the same name; retry.' },
  NAMESPACE_PROTECTED: { status: 409, nacos: 20005, doc: 'The `public` namespace cannot be deleted.' },
  LAST_ADMIN: { status: 409, nacos: 20005, doc: 'The change would leave the registry without a global admin.' },
  TOO_MANY_LOGIN_ATTEMPTS: { status: 429, nacos: 10001, doc: 'Too many wrong passwords for this user or from this address: wait the seconds `Retry-After` gives.' },
  WATCH_REVISION_GONE: { status: 410, nacos: 20002, doc: 'The change log no longer holds changes after that revision; load a fresh snapshot.' },
  NOT_SUPPORTED: { status: 501, nacos: 501, doc: 'Nacos gRPC port: the request is one mcpgate does not serve, such as a config write (`ConfigPublishRequest`, `ConfigRemoveRequest`): mcpgate is not a general configuration centre; its MCP configs are written through the MCP APIs.' },
  GRPC_MALFORMED_PAYLOAD: { status: 400, nacos: 400, doc: 'Nacos gRPC port: the frame is not a Nacos `Payload`, or its body is not the JSON object its `metadata.type` needs; the message names the field. Nothing is changed.' },
  GRPC_UNKNOWN_REQUEST: { status: 400, nacos: 302, doc: 'Nacos gRPC port: no handler for that `metadata.type` (answered as Nacos does, error code 302).' },
  GRPC_CONNECTION_UNREGISTERED: { status: 400, nacos: 301, doc: 'Nacos gRPC port: a request on a connection that has not sent `ConnectionSetupRequest` on its bi-directional stream (or whose stream ended); Nacos clients reconnect on this code (301).' },
  STORE_UNAVAILABLE: { status: 503, nacos: 30000, doc: 'The database did not answer.' },
  UPSTREAM_FAILED: { status: 502, nacos: 30000, doc: 'Importing tools: the upstream MCP server could not be reached, timed out, or answered something that is not MCP; the message says which (`UPSTREAM_UNREACHABLE`, `UPSTREAM_TIMEOUT`, `UPSTREAM_PROTOCOL`, `UPSTREAM_ERROR`).' },
  INTERNAL: { status: 500, nacos: 30000, doc: 'An unexpected error; the log has the details.' },
} as const satisfies Record<string, { status: number; nacos: number; doc: string }>;

/** A stable error code from the `ERRORS` table. */
export type ErrorCode = keyof typeof ERRORS;

/** An error that is the caller's to fix (or the server's, for 5xx), with a stable code. */
export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The parameter or body field at fault, as the caller wrote it. */
    readonly field?: string,
  ) {
    super(message);
  }

  /** The HTTP status this error answers with. */
  get status(): number {
    return ERRORS[this.code].status;
  }

  /** The Nacos detail code this error answers with on the Nacos-compatible APIs. */
  get nacosCode(): number {
    return ERRORS[this.code].nacos;
  }
}

/** A refused login attempt: the caller must wait `retryAfterSeconds` (sent as `Retry-After`). */
export class TooManyAttemptsError extends AppError {
  constructor(message: string, readonly retryAfterSeconds: number) {
    super('TOO_MANY_LOGIN_ATTEMPTS', message);
  }
}

/** Shorthand for a `VALIDATION_FAILED` error on one field. */
export function invalid(field: string, message: string): AppError {
  return new AppError('VALIDATION_FAILED', `${field}: ${message}`, field);
}

/** Shorthand for a `PARAMETER_MISSING` error. */
export function missing(field: string): AppError {
  return new AppError('PARAMETER_MISSING', `required parameter '${field}' is missing`, field);
}
