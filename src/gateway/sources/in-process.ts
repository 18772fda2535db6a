/**
 * Configuration for `mcpgate serve`: the gateway runs beside the registry in one process and
 * reads snapshots straight from its `WatchService`, woken by the `ChangeFeed` (through the
 * `SnapshotReader` and `RevisionFeed` of the snapshot contract, src/model/snapshot.ts).
 */
import type { Logger } from '../../lib/logger.js';
import type { RegistrySnapshot, RevisionFeed, SnapshotReader } from '../../model/snapshot.js';
import type { ConfigSource } from './config-source.js';

/** Options of `InProcessSource`. */
export interface InProcessSourceOptions {
  logger?: Logger;
  /** Wait before retrying a snapshot read that failed (database briefly away), ms. Default 1000. */
  retryDelayMs?: number;
}

/**
 * Delivers the registry's snapshot at start and after every new revision. Reads are coalesced:
 * at most one is in flight, and revisions announced meanwhile cause exactly one more read.
 * Revisions only move forward.
 */
export class InProcessSource implements ConfigSource {
  private onSnapshot: ((snapshot: RegistrySnapshot) => void) | undefined;
  private delivered = -1;
  private reading: Promise<void> | undefined;
  private readAgain = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly retryDelayMs: number;
  private readonly onRevision = (revision: number): void => {
    if (revision > this.delivered) this.refresh();
  };

  constructor(
    private readonly watch: SnapshotReader,
    private readonly feed: RevisionFeed,
    private readonly options: InProcessSourceOptions = {},
  ) {
    this.retryDelayMs = options.retryDelayMs ?? 1000;
  }

  async start(onSnapshot: (snapshot: RegistrySnapshot) => void): Promise<void> {
    if (this.onSnapshot) throw new Error('InProcessSource: already started');
    this.onSnapshot = onSnapshot;
    // Subscribe first, so that a write landing during the first read is not missed.
    this.feed.on('revision', this.onRevision);
    this.refresh();
    try {
      await this.reading;
    } catch (err) {
      this.feed.off('revision', this.onRevision);
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.feed.off('revision', this.onRevision);
    clearTimeout(this.retryTimer);
    await this.reading?.catch(() => undefined);
  }

  describe(): string {
    return 'in-process registry';
  }

  private refresh(): void {
    if (this.stopped) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = this.readLoop();
  }

  /** Reads until no revision arrived during the last read; only the first read of all rejects (start fails). */
  private async readLoop(): Promise<void> {
    try {
      do {
        this.readAgain = false;
        let snapshot: RegistrySnapshot;
        try {
          snapshot = await this.watch.snapshot();
        } catch (err) {
          if (this.delivered < 0) throw err;
          this.options.logger?.warn({ err }, 'in-process source: reading the registry snapshot failed; retrying');
          clearTimeout(this.retryTimer);
          this.retryTimer = setTimeout(() => { if (this.feed.revision > this.delivered) this.refresh(); }, this.retryDelayMs);
          this.retryTimer.unref();
          return;
        }
        this.deliver(snapshot);
      } while (this.readAgain && !this.stopped);
    } finally {
      // Cleared in the same turn as the last loop check, so a revision announced later starts a new read.
      this.reading = undefined;
    }
  }

  private deliver(snapshot: RegistrySnapshot): void {
    if (this.stopped || snapshot.revision <= this.delivered) return;
    this.delivered = snapshot.revision;
    try {
      this.onSnapshot?.(snapshot);
    } catch (err) {
      this.options.logger?.error({ err, revision: snapshot.revision }, 'in-process source: the gateway refused a snapshot');
    }
  }
}
