import type { DedicatedConnection, RevisionPushCapability } from './dialects/dialect.js';
import type { RevisionSubscription } from './store.js';

/**
 * Listens for revisions the database announces, on a dedicated connection that is
 * re-opened a second after it breaks. Announcements made while it was down are not
 * replayed by the database: on every (re)connect it reads the current revision once.
 */
export class RevisionListener implements RevisionSubscription {
  private conn: DedicatedConnection | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private markReady!: () => void;
  readonly ready = new Promise<void>((resolve) => { this.markReady = resolve; });

  constructor(
    private readonly push: RevisionPushCapability,
    private readonly onRevision: (revision: number) => void,
    private readonly current: () => Promise<number>,
    private readonly retryMs = 1000,
  ) {
    void this.connect();
  }

  get listening(): boolean {
    return this.conn !== undefined;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let conn: DedicatedConnection;
    try {
      conn = await this.push.listen(this.onRevision);
    } catch {
      this.retry();
      return;
    }
    if (this.stopped) {
      conn.destroy();
      return;
    }
    this.conn = conn;
    this.markReady();
    void conn.closed.then(() => {
      if (this.conn !== conn) return;
      this.conn = undefined;
      this.retry();
    });
    this.current().then(this.onRevision, () => { /* polling catches up */ });
  }

  private retry(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => { void this.connect(); }, this.retryMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const conn = this.conn;
    this.conn = undefined;
    this.markReady();
    if (conn) await conn.end().catch(() => conn.destroy());
  }
}
