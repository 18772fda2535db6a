import type { MessageBus } from './types.js';

/** A subscription held for a component's life: retried every 2 s until the bus answers, ended by `close`. */
export interface StandingSubscription {
  close(): Promise<void>;
}

/** Subscribe to `channel` and keep trying (a bus not reachable yet) until it is subscribed or closed. */
export function standingSubscription(bus: MessageBus, channel: string, onMessage: (payload: string) => void): StandingSubscription {
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  let unsubscribe: (() => Promise<void>) | undefined;
  const attempt = (): void => {
    bus.subscribe(channel, onMessage).then((done) => {
      if (closed) done().catch(() => undefined);
      else unsubscribe = done;
    }, () => {
      if (closed) return;
      retry = setTimeout(attempt, 2000);
      retry.unref();
    });
  };
  attempt();
  return {
    async close() {
      closed = true;
      clearTimeout(retry);
      await unsubscribe?.().catch(() => undefined);
    },
  };
}
