/**
 * Multi-round-trip requests (protocol revision 2026-07-28) for calls to upstream MCP servers: a
 * stateless agent cannot be sent requests, so when the upstream asks its client something
 * during a call (sampling, elicitation, roots), the agent's POST is answered with an
 * `input_required` result (`inputRequests`, keyed, and a `requestState`), the upstream call
 * waiting meanwhile; the agent's retry carries `inputResponses` and the `requestState`, which
 * answer the upstream and wait for the call's result or its next questions.
 *
 * The `requestState` is a random id (122 bits: unguessable, never data the gateway trusts) of a
 * round held by the replica running the upstream call, bound to the server and consumer key that
 * started it. The round is kept in the session store (Redis when clustered: which replica holds
 * it, for the server and consumer key, expiring with the wait), so that a retry landing on
 * another replica is forwarded over the bus to the holder, which answers it back the same way:
 * the upstream call itself cannot move (its answer stream is the holder's), the agent sees no
 * difference. A retry with an unknown, expired or ended round, one of another server or consumer
 * key, or one whose holder is gone is refused (INPUT_STATE_UNKNOWN). A round the agent does not
 * resume within `INPUT_WAIT_MS` is cancelled upstream.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../lib/logger.js';
import { Cancellation } from '../../tools/cancellation.js';
import type { AgentChannel } from '../../tools/executor.js';
import { AgentError } from '../../tools/executor.js';
import { GATEWAY_ERRORS, GatewayError, toGatewayError } from '../errors.js';
import type { GatewayErrorCode } from '../errors.js';
import type { MessageBus, SessionStore } from '../sessions/types.js';
import { inputChannel } from '../sessions/types.js';
import { standingSubscription } from '../sessions/standing-subscription.js';
import type { StandingSubscription } from '../sessions/standing-subscription.js';

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
export class Round {
  readonly id = randomUUID();
  readonly cancellation = new Cancellation();
  private readonly questions = new Map<string, Question>();
  private counter = 0;
  private settled: RoundOutcome | undefined;
  private waiter: ((o: RoundOutcome) => void) | undefined;
  private flush: NodeJS.Immediate | undefined;
  private expiry: NodeJS.Timeout | undefined;
  /** Whether the round is kept in the session store (for the other replicas). */
  kept = false;

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

/** What a retry needs of its round, wherever it is held: the outcome of the call's next step, and how to abandon it. */
export interface RoundHandle {
  next(): Promise<RoundOutcome>;
  /** The agent went away: cancel the call. */
  abandon(): void;
}

/** A `requestState` as the gateway makes them (a UUID); anything else is unknown without a look-up. */
const STATE_FORMAT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** How often a replica waiting for a forwarded retry's answer checks that the holder still lives. */
const HOLDER_CHECK_MS = 5000;

/** Messages on a replica's input channel. */
type InputMessage =
  | { k: 'resume'; id: string; r: unknown; s: string; c: string | null; to: string; q: string }
  | { k: 'abandon'; id: string }
  | { k: 'outcome'; q: string; o: WireOutcome }
  | { k: 'ping' };

/** An outcome on the bus (an error as the code, message, data and headers it is answered with). */
type WireOutcome =
  | { kind: 'done'; result: Record<string, unknown> }
  | { kind: 'input'; inputRequests: Record<string, { method: string; params: Record<string, unknown> }>; requestState: string }
  | { kind: 'failed'; error: { code: string; message: string; data?: unknown; headers?: Record<string, string> | undefined; rpc: number } };

/** What the rounds of a replica need to be continued on the others. */
export interface InputRoundsDeps {
  sessions: SessionStore;
  bus: MessageBus;
  logger: Logger;
}

function unknownState(why: string): GatewayError {
  return new GatewayError('INPUT_STATE_UNKNOWN', `Invalid params: requestState names no call waiting for input (${why}); send the request again without it`);
}

/** The rounds this replica holds, and the retries it forwards to the replicas holding theirs. */
export class InputRounds {
  private readonly rounds = new Map<string, Round>();
  /** This replica's name on the bus. */
  readonly replica = randomUUID();
  /** Forwarded retries waiting for the holder's answer, by their tag. */
  private readonly waiting = new Map<string, (o: WireOutcome) => void>();
  /** This replica's input channel. */
  private readonly channel: StandingSubscription | undefined;

  constructor(private readonly deps?: InputRoundsDeps) {
    if (deps) this.channel = standingSubscription(deps.bus, inputChannel(this.replica), (payload) => this.onMessage(payload));
  }

  private onMessage(payload: string): void {
    let m: InputMessage;
    try {
      m = JSON.parse(payload) as InputMessage;
    } catch {
      return;
    }
    if (m.k === 'outcome') {
      const resolve = this.waiting.get(m.q);
      if (resolve) {
        this.waiting.delete(m.q);
        resolve(m.o);
      }
    } else if (m.k === 'abandon') {
      this.rounds.get(m.id)?.cancellation.cancel();
    } else if (m.k === 'resume') {
      this.resumeForwarded(m).catch((err: unknown) => this.deps?.logger.debug({ err }, 'could not continue a forwarded retry'));
    }
  }

  /** A retry another replica received for a round held here: answered back on its channel. */
  private async resumeForwarded(m: Extract<InputMessage, { k: 'resume' }>): Promise<void> {
    let outcome: RoundOutcome;
    try {
      outcome = await this.resumeHere(m.id, m.r, m.s, m.c).next();
      if (outcome.kind === 'input') await this.keep(outcome.requestState);
    } catch (error) {
      outcome = { kind: 'failed', error };
    }
    const message: InputMessage = { k: 'outcome', q: m.q, o: this.toWire(outcome) };
    await this.deps?.bus.publish(m.to, JSON.stringify(message)).catch((err: unknown) => this.deps?.logger.debug({ err }, 'could not answer a forwarded retry'));
  }

  private toWire(o: RoundOutcome): WireOutcome {
    if (o.kind !== 'failed') return o;
    const e = toGatewayError(o.error, this.deps?.logger);
    return { kind: 'failed', error: { code: e.code, message: e.message, data: e.data, headers: e.headers, rpc: e.rpcCode } };
  }

  private static fromWire(o: WireOutcome): RoundOutcome {
    if (o.kind !== 'failed') return o;
    const { code, message, data, headers, rpc } = o.error;
    const known = Object.hasOwn(GATEWAY_ERRORS, code) ? code as GatewayErrorCode : 'INTERNAL_ERROR';
    return { kind: 'failed', error: new GatewayError(known, message, data, headers, rpc === GATEWAY_ERRORS[known].rpc ? undefined : rpc) };
  }

  /** Start a call that may ask the agent questions; `run` is given the agent channel and the call's cancellation. */
  start(serverKey: string, consumerId: string | null, capabilities: Record<string, unknown> | undefined, run: (agent: AgentChannel, cancellation: Cancellation) => Promise<Record<string, unknown>>): Round {
    if (this.rounds.size >= MAX_ROUNDS) throw new GatewayError('INPUT_ROUNDS_FULL', `the gateway holds ${MAX_ROUNDS} calls waiting for agents' input; try again later`);
    const round = new Round(serverKey, consumerId, (r) => {
      this.rounds.delete(r.id);
      if (r.kept) this.deps?.sessions.deleteInputRound(r.id).catch(() => undefined);
    });
    this.rounds.set(round.id, round);
    run(round.agent(capabilities), round.cancellation).then(
      (result) => round.finish({ kind: 'done', result }),
      (error: unknown) => round.finish({ kind: 'failed', error }),
    );
    return round;
  }

  /**
   * Before a round's questions go to the agent: keep where it is held (for `INPUT_WAIT_MS`), so
   * that the retry is continued on any replica. A store that fails only costs that: logged.
   */
  async keep(requestState: string): Promise<void> {
    const round = this.rounds.get(requestState);
    if (!round || !this.deps) return;
    try {
      await this.deps.sessions.putInputRound(round.id, { holder: this.replica, server: round.serverKey, consumerId: round.consumerId }, INPUT_WAIT_MS);
      round.kept = true;
    } catch (err) {
      this.deps.logger.warn({ err }, 'could not keep a round waiting for input for the other replicas; its retry must come back here');
    }
  }

  /** The round a retry names, held here: answered with its `inputResponses`; refused when unknown here or not the caller's. */
  private resumeHere(requestState: unknown, inputResponses: unknown, serverKey: string, consumerId: string | null): Round {
    const round = typeof requestState === 'string' ? this.rounds.get(requestState) : undefined;
    if (!round || round.serverKey !== serverKey || round.consumerId !== consumerId) throw unknownState('it ended, expired, or belongs to another server or consumer key');
    if (typeof inputResponses !== 'object' || inputResponses === null || Array.isArray(inputResponses)) {
      throw new GatewayError('INVALID_PARAMS', "Invalid params: 'inputResponses' must be an object");
    }
    round.answer(inputResponses as Record<string, unknown>);
    return round;
  }

  /**
   * The round a retry names, answered with its `inputResponses`: held here, or forwarded to the
   * replica that holds it (its answer comes back on the bus). Refused when unknown, expired, not
   * the caller's, or its holder is gone.
   */
  async resume(requestState: unknown, inputResponses: unknown, serverKey: string, consumerId: string | null): Promise<RoundHandle> {
    const local = typeof requestState === 'string' ? this.rounds.get(requestState) : undefined;
    if (local || !this.deps || typeof requestState !== 'string' || !STATE_FORMAT.test(requestState)) {
      const round = this.resumeHere(requestState, inputResponses, serverKey, consumerId);
      return { next: () => round.next(), abandon: () => round.cancellation.cancel() };
    }
    if (typeof inputResponses !== 'object' || inputResponses === null || Array.isArray(inputResponses)) {
      throw new GatewayError('INVALID_PARAMS', "Invalid params: 'inputResponses' must be an object");
    }
    const { bus, sessions } = this.deps;
    const kept = await sessions.getInputRound(requestState);
    if (!kept || kept.server !== serverKey || kept.consumerId !== consumerId) throw unknownState('it ended, expired, or belongs to another server or consumer key');
    if (kept.holder === this.replica) throw unknownState('it ended');
    const q = randomUUID();
    const answered = new Promise<WireOutcome>((resolve) => this.waiting.set(q, resolve));
    const message: InputMessage = { k: 'resume', id: requestState, r: inputResponses, s: serverKey, c: consumerId, to: inputChannel(this.replica), q };
    const receivers = await bus.publish(inputChannel(kept.holder), JSON.stringify(message)).catch((err: unknown) => {
      this.waiting.delete(q);
      throw err;
    });
    if (receivers === 0) {
      this.waiting.delete(q);
      throw unknownState('the gateway replica running the call is gone');
    }
    const holder = inputChannel(kept.holder);
    return {
      // The holder answers when the call ends or asks again; while waiting, it is checked to live.
      next: () => new Promise<RoundOutcome>((resolve) => {
        const check = setInterval(() => {
          bus.publish(holder, '{"k":"ping"}').then((n) => {
            if (n === 0 && this.waiting.delete(q)) {
              clearInterval(check);
              resolve({ kind: 'failed', error: unknownState('the gateway replica running the call is gone') });
            }
          }, () => undefined);
        }, HOLDER_CHECK_MS);
        check.unref();
        answered.then((o) => {
          clearInterval(check);
          resolve(InputRounds.fromWire(o));
        }, () => undefined);
      }),
      abandon: () => {
        if (!this.waiting.delete(q)) return;
        bus.publish(holder, JSON.stringify({ k: 'abandon', id: requestState } satisfies InputMessage)).catch(() => undefined);
      },
    };
  }

  /** Cancel every round (shutdown). */
  close(): void {
    for (const r of this.rounds.values()) r.cancellation.cancel();
    this.channel?.close().catch(() => undefined);
  }
}
