/**
 * Multi-round-trip requests (protocol revision 2026-07-28) for calls to upstream MCP servers: a
 * stateless agent cannot be sent requests, so when the upstream asks its client something
 * during a call (sampling, elicitation, roots), the agent's POST is answered with an
 * `input_required` result (`inputRequests`, keyed, and a `requestState`), the upstream call
 * waiting meanwhile; the agent's retry carries `inputResponses` and the `requestState`, which
 * answer the upstream and wait for the call's result or its next questions.
 *
 * The `requestState` is a random id of a round held by this replica (never data the gateway
 * trusts), bound to the server and consumer key that started it; a retry with another, an
 * unknown or an expired one is refused (INPUT_STATE_UNKNOWN). A round the agent does not resume
 * within `INPUT_WAIT_MS` is cancelled upstream.
 */
import { randomUUID } from 'node:crypto';
import { Cancellation } from '../../tools/cancellation.js';
import type { AgentChannel } from '../../tools/executor.js';
import { AgentError } from '../../tools/executor.js';
import { GatewayError } from '../errors.js';

/** How long a round waits for the agent's retry. */
export const INPUT_WAIT_MS = 120_000;
/** Most rounds held at once by one replica. */
const MAX_ROUNDS = 10_000;

/** What the agent's POST is answered with: the call's end, or the questions to answer first. */
export type RoundOutcome =
  | { kind: 'done'; result: Record<string, unknown> }
  | { kind: 'failed'; error: unknown }
  | { kind: 'input'; inputRequests: Record<string, { method: string; params: Record<string, unknown> }>; requestState: string };

interface Question {
  method: string;
  params: Record<string, unknown>;
  resolve: (r: Record<string, unknown>) => void;
  reject: (e: Error) => void;
  asked: boolean;
}

/** One call to an upstream that may ask the agent questions across POSTs. */
class Round {
  readonly id = randomUUID();
  readonly cancellation = new Cancellation();
  private readonly questions = new Map<string, Question>();
  private counter = 0;
  private settled: RoundOutcome | undefined;
  private waiter: ((o: RoundOutcome) => void) | undefined;
  private flush: NodeJS.Immediate | undefined;
  private expiry: NodeJS.Timeout | undefined;

  constructor(readonly serverKey: string, readonly consumerId: string | null, private readonly onEnd: (r: Round) => void) {}

  /** The agent channel the call uses: a question becomes an `input_required` answer. */
  agent(capabilities: Record<string, unknown> | undefined): AgentChannel {
    return {
      capabilities,
      notify: () => undefined,
      request: (method, params, signal) => new Promise<Record<string, unknown>>((resolve, reject) => {
        const key = `q${++this.counter}`;
        const q: Question = { method, params, resolve, reject, asked: false };
        this.questions.set(key, q);
        signal.addEventListener('abort', () => {
          if (this.questions.delete(key)) reject(new AgentError(-32800, 'Request cancelled'));
        }, { once: true });
        // Questions asked at once go out in one answer.
        this.flush ??= setImmediate(() => {
          this.flush = undefined;
          this.emit();
        });
      }),
    };
  }

  /** The call ended (result or error). */
  finish(outcome: RoundOutcome): void {
    this.settled = outcome;
    for (const q of this.questions.values()) q.reject(new AgentError(-32603, 'the call ended'));
    this.questions.clear();
    clearTimeout(this.expiry);
    this.onEnd(this);
    this.emit();
  }

  private emit(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    if (this.settled) {
      this.waiter = undefined;
      return waiter(this.settled);
    }
    const open = [...this.questions].filter(([, q]) => !q.asked);
    if (open.length === 0) return;
    this.waiter = undefined;
    const inputRequests: Record<string, { method: string; params: Record<string, unknown> }> = {};
    for (const [key, q] of open) {
      q.asked = true;
      inputRequests[key] = { method: q.method, params: q.params };
    }
    // The agent has INPUT_WAIT_MS to come back with its answers.
    clearTimeout(this.expiry);
    this.expiry = setTimeout(() => this.cancellation.cancel(), INPUT_WAIT_MS);
    this.expiry.unref();
    waiter({ kind: 'input', inputRequests, requestState: this.id });
  }

  /** Wait for the call's end or its next questions. */
  next(): Promise<RoundOutcome> {
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.emit();
    });
  }

  /** The agent's answers to the questions asked. */
  answer(responses: Record<string, unknown>): void {
    clearTimeout(this.expiry);
    for (const [key, q] of this.questions) {
      if (!q.asked) continue;
      this.questions.delete(key);
      const r = responses[key];
      if (typeof r === 'object' && r !== null && !Array.isArray(r)) q.resolve(r as Record<string, unknown>);
      else q.reject(new AgentError(-32602, `the agent's retry carries no inputResponses.${key}`));
    }
  }
}

/** The rounds this replica holds. */
export class InputRounds {
  private readonly rounds = new Map<string, Round>();

  /** Start a call that may ask the agent questions; `run` is given the agent channel and the call's cancellation. */
  start(serverKey: string, consumerId: string | null, capabilities: Record<string, unknown> | undefined, run: (agent: AgentChannel, cancellation: Cancellation) => Promise<Record<string, unknown>>): Round {
    if (this.rounds.size >= MAX_ROUNDS) throw new GatewayError('INPUT_ROUNDS_FULL', `the gateway holds ${MAX_ROUNDS} calls waiting for agents' input; try again later`);
    const round = new Round(serverKey, consumerId, (r) => this.rounds.delete(r.id));
    this.rounds.set(round.id, round);
    run(round.agent(capabilities), round.cancellation).then(
      (result) => round.finish({ kind: 'done', result }),
      (error: unknown) => round.finish({ kind: 'failed', error }),
    );
    return round;
  }

  /** The round a retry names, answered with its `inputResponses`; refused when unknown here or not the caller's. */
  resume(requestState: unknown, inputResponses: unknown, serverKey: string, consumerId: string | null): Round {
    const round = typeof requestState === 'string' ? this.rounds.get(requestState) : undefined;
    if (!round || round.serverKey !== serverKey || round.consumerId !== consumerId) {
      throw new GatewayError('INPUT_STATE_UNKNOWN', 'Invalid params: requestState names no call waiting for input on this gateway (it ended, expired, or was started on another replica); send the request again without it');
    }
    if (typeof inputResponses !== 'object' || inputResponses === null || Array.isArray(inputResponses)) {
      throw new GatewayError('INVALID_PARAMS', "Invalid params: 'inputResponses' must be an object");
    }
    round.answer(inputResponses as Record<string, unknown>);
    return round;
  }

  /** Cancel every round (shutdown). */
  close(): void {
    for (const r of this.rounds.values()) r.cancellation.cancel();
  }
}
