/**
 * The Nacos gRPC request/response conventions: the JSON of a response (Nacos' `Response`:
 * resultCode, errorCode, success, message, requestId), the server's ability table, the error
 * codes Nacos clients act on, and how a mcpgate AppError becomes one of them.
 */
import { AppError } from '../../lib/errors.js';

/** Nacos' `NacosException` codes that clients act on. */
export const NACOS_CODES = {
  INVALID_PARAM: 400,
  NO_RIGHT: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  SERVER_ERROR: 500,
  NOT_IMPLEMENTED: 501,
  OVER_THRESHOLD: 503,
  /** A request on a connection that has not completed setup: clients reconnect. */
  UN_REGISTER: 301,
  /** No handler for the request type. */
  NO_HANDLER: 302,
  /** ConfigQueryResponse: no such config. */
  CONFIG_NOT_FOUND: 300,
} as const;

/**
 * The abilities this server announces in SetupAckRequest (AbilityKey names of Nacos' server
 * mode): persistent instances over gRPC and the MCP registry requests; no fuzzy watch, no lock.
 */
export const SERVER_ABILITIES: Record<string, boolean> = {
  supportPersistentInstanceByGrpc: true,
  mcp: true,
  fuzzyWatch: false,
  lock: false,
  agent: false,
};

/** The JSON body of a successful response (null fields are left out, as Nacos' Jackson does: clients type them as strings). */
export function ok(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { resultCode: 200, errorCode: 0, success: true, ...fields };
}

/** The JSON body of a failed response. */
export function failed(errorCode: number, message: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { resultCode: 500, errorCode, success: false, message, ...fields };
}

/** The Nacos error code an AppError answers with on the gRPC port. */
export function nacosCodeOf(err: AppError): number {
  switch (err.code) {
    case 'UNAUTHORIZED':
    case 'FORBIDDEN':
      return NACOS_CODES.NO_RIGHT;
    case 'NOT_SUPPORTED':
    case 'GRPC_MALFORMED_PAYLOAD':
    case 'GRPC_UNKNOWN_REQUEST':
    case 'GRPC_CONNECTION_UNREGISTERED':
      return err.nacosCode;
    default:
      return err.status >= 500 ? NACOS_CODES.SERVER_ERROR : err.status;
  }
}

/** The error code and message of anything a handler threw (unexpected errors: 500 with no detail). */
export function describeError(err: unknown): { errorCode: number; message: string; unexpected: boolean } {
  if (err instanceof AppError) {
    return { errorCode: nacosCodeOf(err), message: `${err.code}: ${err.message}`, unexpected: err.status >= 500 };
  }
  return { errorCode: NACOS_CODES.SERVER_ERROR, message: 'INTERNAL: an unexpected error; the registry log has the details', unexpected: true };
}
