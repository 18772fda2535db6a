/**
 * The tool list of an upstream MCP server that lists its tools live, as virtual servers read it:
 * fetched in the background (all pages), kept while the upstream's runtime lives (one per
 * published version), refreshed every `refreshMs` and on the upstream's list_changed, so that a
 * virtual server's tools/list never waits for an upstream it has heard from. A fetch that fails
 * marks the member down (its tools leave the list) and is retried with backoff; every change of
 * what the list holds is announced to the listeners (the virtual servers, which tell agents).
 */
import type { Logger } from '../../lib/logger.js';
import type { McpServerRuntime } from '../../tools/mcp/runtime.js';

/** Most pages followed of one upstream tools/list. */
const MAX_PAGES = 100;
/** First retry after a failed fetch; doubles up to the refresh period. */
const RETRY_FIRST_MS = 250;

/** Where a member's live list stands. */
export type LiveStatus = 'pending' | 'ok' | 'down';

/** A tool as an upstream lists it (checked to have a string name). */
export type RawTool = Record<string, unknown> & { name: string };

/** The live tool list of one upstream MCP server runtime. */
export class LiveToolsCache {
  /** The tools when `status` is `ok`. */
  tools: readonly RawTool[] = [];
  status: LiveStatus = 'pending';
  /** Why the last fetch failed. */
  lastError: string | undefined;
  /** Bumped whenever `tools` or `status` changes. */
  version = 0;
  private fetching: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private text = '';
  private closed = false;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly runtime: McpServerRuntime, private readonly logger: Logger, private refreshMs: number, private readonly timeoutMs: number) {}

  /** Start fetching (once) and keep refreshing. */
  start(): void {
    if (this.fetching || this.timer || this.closed) return;
    this.refresh();
  }

  /** Use a shorter refresh period (several virtual servers may share a member). */
  refreshAtLeastEvery(ms: number): void {
    if (ms < this.refreshMs) this.refreshMs = ms;
  }

  /** Settles when the fetch under way (if any) ends. */
  ready(): Promise<void> {
    return this.fetching ?? Promise.resolve();
  }

  /** Listen for changes of the list; answers the function that stops listening. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Fetch again now (the upstream said its list changed, or the period passed). */
  refresh(): void {
    if (this.closed || this.fetching) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.fetching = this.fetch().finally(() => {
      this.fetching = undefined;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.closed) return;
    const delay = this.status === 'ok' ? this.refreshMs : Math.min(this.refreshMs, RETRY_FIRST_MS * 2 ** Math.min(this.failures - 1, 16));
    this.timer = setTimeout(() => this.refresh(), delay);
    this.timer.unref();
  }

  private async fetch(): Promise<void> {
    try {
      const tools: RawTool[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const result = await this.runtime.request('tools/list', cursor ? { cursor } : {}, { timeoutMs: this.timeoutMs });
        if (Array.isArray(result.tools)) {
          for (const t of result.tools as unknown[]) {
            if (typeof t === 'object' && t !== null && typeof (t as { name?: unknown }).name === 'string') tools.push(t as RawTool);
          }
        }
        cursor = typeof result.nextCursor === 'string' && result.nextCursor !== '' ? result.nextCursor : undefined;
        if (!cursor) break;
      }
      this.failures = 0;
      this.lastError = undefined;
      const text = JSON.stringify(tools);
      if (this.status === 'ok' && text === this.text) return;
      if (this.status === 'down') this.logger.info({ tools: tools.length }, 'virtual server member is back');
      this.tools = tools;
      this.text = text;
      this.set('ok');
    } catch (err) {
      this.failures++;
      this.lastError = (err as Error).message;
      if (this.status === 'down') return;
      this.logger.warn({ err: this.lastError }, 'virtual server member left out: its tool list could not be fetched');
      this.tools = [];
      this.text = '';
      this.set('down');
    }
  }

  private set(status: LiveStatus): void {
    this.status = status;
    this.version++;
    if (this.closed) return;
    for (const l of this.listeners) l();
  }

  /** Stop refreshing (the upstream's runtime was closed). */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.listeners.clear();
  }
}
