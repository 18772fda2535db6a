/**
 * The upstream session of an agent session, kept where every gateway replica can read it (with
 * the agent's session: in Redis when the gateway is clustered), so that whichever replica serves
 * the agent's next request continues the same upstream session instead of opening another.
 *
 * Only 2025-era Streamable HTTP upstreams have such a session (an `Mcp-Session-Id`); 2026-07-28
 * upstreams are stateless, a legacy SSE session lives on its stream, and a stdio child on the
 * replica that started it (another replica starts its own: see docs/gateway.md).
 */

/** What continuing an upstream session needs: its id, the protocol version it negotiated, what the upstream offered. */
export interface UpstreamSessionState {
  /** The upstream's `Mcp-Session-Id`. */
  sessionId: string;
  /** The protocol version negotiated at initialize (sent as `MCP-Protocol-Version`). */
  protocolVersion: string;
  /** The upstream's capabilities from its initialize answer. */
  capabilities?: Record<string, unknown> | undefined;
  /** The last event id seen on the upstream's standalone GET stream (when it supports resumption), to reopen it with Last-Event-ID. */
  lastEventId?: string | undefined;
}

/** The port: upstream session state by agent session id. */
export interface UpstreamSessionStates {
  /** The state stored for an agent session; undefined when none (or the agent session is gone). */
  get(agentSessionId: string): Promise<UpstreamSessionState | undefined>;
  /** Store (or, with undefined, forget) the state of an agent session; nothing happens when the agent session is gone. */
  set(agentSessionId: string, state: UpstreamSessionState | undefined): Promise<void>;
}

/** Largest state kept (bytes of JSON): an upstream with huge capabilities has them re-read on initialize instead. */
export const MAX_UPSTREAM_STATE_BYTES = 16 * 1024;

/** A state read back from storage, checked (a malformed one is treated as none). */
export function readUpstreamState(raw: unknown): UpstreamSessionState | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { sessionId, protocolVersion, capabilities, lastEventId } = raw as Record<string, unknown>;
  if (typeof sessionId !== 'string' || sessionId === '' || sessionId.length > 1024 || !/^[\x21-\x7e]+$/.test(sessionId)) return undefined;
  if (typeof protocolVersion !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(protocolVersion)) return undefined;
  const caps = typeof capabilities === 'object' && capabilities !== null && !Array.isArray(capabilities) ? capabilities as Record<string, unknown> : undefined;
  const eventId = typeof lastEventId === 'string' && lastEventId !== '' && lastEventId.length <= 256 && /^[\x20-\x7e]+$/.test(lastEventId) ? lastEventId : undefined;
  return { sessionId, protocolVersion, ...(caps ? { capabilities: caps } : {}), ...(eventId !== undefined ? { lastEventId: eventId } : {}) };
}
