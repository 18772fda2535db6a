/**
 * The cancellation of one tool call: cancelled when the agent sends `notifications/cancelled`,
 * disconnects, or the gateway shuts down.
 *
 * Ours rather than an `AbortController`: one is made for every call and almost never fires,
 * and Node's `AbortSignal` is an `EventTarget` whose construction and listeners cost about 5 %
 * of a stateless tools/call's CPU (docs/benchmarks.md, "Gateway"). This is a flag and a short
 * list of listeners.
 */
import type { CallCancellation } from './executor.js';

export class Cancellation implements CallCancellation {
  private done = false;
  private listeners: (() => void)[] | undefined;

  get cancelled(): boolean {
    return this.done;
  }

  /** Run `listener` once when the call is cancelled; at once when it already is. */
  onCancel(listener: () => void): void {
    if (this.done) return listener();
    (this.listeners ??= []).push(listener);
  }

  /** Forget a listener given to `onCancel`. */
  offCancel(listener: () => void): void {
    const list = this.listeners;
    if (!list) return;
    const at = list.indexOf(listener);
    if (at >= 0) list.splice(at, 1);
  }

  /** Cancel the call: every listener runs once, in the order given. */
  cancel(): void {
    if (this.done) return;
    this.done = true;
    const list = this.listeners;
    this.listeners = undefined;
    if (list) for (const l of list) l();
  }
}
