/**
 * Back-pressure for what the gateway writes to clients. A client that does not read makes every
 * byte written to it wait in the process (once the kernel's socket buffers are full), so:
 *
 * - a stream (SSE) whose client has more than `maxBufferedBytes` waiting when the next event is
 *   written is closed at once: a stream's backlog stays under that bound plus one event;
 * - any answer or stream whose waiting bytes have not shrunk for `writeTimeoutMs` is closed.
 *
 * Writes that the kernel takes at once (the usual case) cost one property read; only responses
 * with bytes waiting are looked at, by one timer for all of them.
 */
import type { ServerResponse } from 'node:http';

/** Why a client's connection was closed. */
export type SlowClientReason = 'streamMaxBufferedBytes' | 'streamWriteTimeout';

interface Waiting {
  /** Bytes waiting when last looked at. */
  bytes: number;
  /** When the backlog last shrank (or was first seen). */
  since: number;
}

/** Watches responses with bytes waiting for their clients, and closes those that stall. */
export class WriteGuard {
  private readonly waiting = new Map<ServerResponse, Waiting>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly o: { maxBufferedBytes: number; writeTimeoutMs: number; onDrop?: (reason: SlowClientReason, bufferedBytes: number) => void },
  ) {}

  /** Write a chunk of a stream, unless its client is too far behind (then the stream is closed: false). */
  writeStream(res: ServerResponse, chunk: string): boolean {
    if (res.writableEnded || res.destroyed) return false;
    const waiting = res.writableLength;
    if (waiting > this.o.maxBufferedBytes) {
      this.drop(res, 'streamMaxBufferedBytes', waiting);
      return false;
    }
    res.write(chunk);
    this.watch(res);
    return true;
  }

  /** After writing to `res`: when bytes wait for its client, watch that they drain. */
  watch(res: ServerResponse): void {
    if (res.writableLength === 0 || this.waiting.has(res)) return;
    this.waiting.set(res, { bytes: res.writableLength, since: Date.now() });
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), Math.max(50, Math.min(1000, this.o.writeTimeoutMs / 4)));
      this.timer.unref();
    }
  }

  /** How many responses have bytes waiting. */
  get watched(): number {
    return this.waiting.size;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [res, w] of this.waiting) {
      const bytes = res.writableLength;
      if (res.destroyed || bytes === 0) {
        this.waiting.delete(res);
      } else if (bytes < w.bytes) {
        w.bytes = bytes;
        w.since = now;
      } else {
        w.bytes = bytes;
        if (now - w.since >= this.o.writeTimeoutMs) this.drop(res, 'streamWriteTimeout', bytes);
      }
    }
    if (this.waiting.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private drop(res: ServerResponse, reason: SlowClientReason, bytes: number): void {
    this.waiting.delete(res);
    res.destroy();
    this.o.onDrop?.(reason, bytes);
  }

  /** Stop watching (shutdown). */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.waiting.clear();
  }
}
