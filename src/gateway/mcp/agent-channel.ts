/**
 * The way back to an agent for what an upstream MCP server asks or says during a call (the
 * tool runtime's `AgentChannel` port), in each era:
 *
 * - 2025 sessions: on the SSE answer of the agent's request (the POST switches to a stream the
 *   first time something must go out before the answer: `AnswerStream`), or the session's GET
 *   stream when the client takes no SSE answer; the agent's answers come back as POSTed JSON-RPC
 *   responses, to any replica (`StreamHub.reply`).
 * - 2024 SSE: on the session's stream, through the message bus; answers POSTed to …/message.
 * - 2026-07-28: no server→client requests; the call's answer is an `input_required` result
 *   (src/gateway/mcp/input-required.ts).
 *
 * Requests to the agent carry ids of the gateway's own (`mcpgate-…`), so they never collide with
 * the agent's or the upstream's ids; an upstream's cancellation of its request becomes a
 * `notifications/cancelled` to the agent.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { AgentChannel } from '../../tools/executor.js';
import { AgentError } from '../../tools/executor.js';
import { notificationMessage } from './jsonrpc.js';
import { SSE_HEADERS } from './sse.js';
import type { StreamHub } from './streams.js';

/** A POST's answer, which turns into an SSE stream the first time a message must go out before it. */
export class AnswerStream {
  private started = false;

  constructor(private readonly res: ServerResponse, private readonly acceptsSse: boolean, private readonly streams: StreamHub) {}

  /** Whether the answer is (now) an SSE stream. */
  get streaming(): boolean {
    return this.started;
  }

  /** Send a message before the answer; false when the client takes no SSE answer or has gone. */
  send(payload: string): boolean {
    if (!this.started) {
      if (!this.acceptsSse || this.res.headersSent || this.res.writableEnded || this.res.destroyed) return false;
      this.res.writeHead(200, SSE_HEADERS);
      this.started = true;
    }
    if (this.res.writableEnded || this.res.destroyed) return false;
    this.streams.event(this.res, payload);
    return true;
  }
}

/**
 * An agent with a session: messages go out through `send` (the request's answer stream, else the
 * session's stream), answers are awaited through the stream hub.
 */
export function sessionAgent(
  hub: StreamHub, sessionId: string, capabilities: Record<string, unknown> | undefined,
  send: (payload: string) => boolean | Promise<boolean>,
): AgentChannel {
  return {
    sessionId,
    capabilities,
    notify(method, params) {
      void Promise.resolve(send(notificationMessage(method, params))).catch(() => undefined);
    },
    async request(method, params, signal) {
      const id = `mcpgate-${randomUUID()}`;
      const reply = hub.awaitReply(sessionId, id);
      const onAbort = () => {
        reply.cancel();
        void Promise.resolve(send(notificationMessage('notifications/cancelled', { requestId: id, reason: 'the upstream MCP server cancelled its request' }))).catch(() => undefined);
      };
      if (signal.aborted) onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        const sent = await send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
        if (!sent) {
          reply.cancel();
          throw new AgentError(-32603, `${method}: the agent's stream is closed; mcpgate cannot ask it`);
        }
        return await reply.result;
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    },
  };
}
