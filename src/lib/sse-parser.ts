/**
 * Incremental parser of a `text/event-stream` (WHATWG HTML, server-sent events), shared by the
 * gateway's registry watch (sources/registry.ts) and the lean path to upstream MCP servers
 * (tools/mcp/lean-http.ts). Hand-written: the SSE libraries on npm are EventSource clients that
 * own the HTTP request, while both callers already hold a response body to parse.
 */

/** One event of a `text/event-stream`. */
export interface SseEvent {
  /** The event type (`message` when the stream names none). */
  event: string;
  data: string;
  /** The last event id seen on the stream, if any. */
  id?: string;
}

const LF = 10;
const CR = 13;
/** A line longer than this is a broken stream, not an event. */
const MAX_SSE_LINE = 32 * 1024 * 1024;

/** Incremental parser of a `text/event-stream` (WHATWG HTML, server-sent events): push byte chunks as they arrive. */
export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  private pending = '';
  private skipLeadingLf = false;
  private eventType = '';
  private data: string[] = [];
  private lastEventId: string | undefined;
  /** The reconnection time the stream asked for (`retry:`), ms. */
  retryMs: number | undefined;

  constructor(private readonly onEvent: (event: SseEvent) => void) {}

  /** Parse one chunk; complete events are dispatched at once. */
  push(chunk: Uint8Array): void {
    this.feed(this.decoder.decode(chunk, { stream: true }));
  }

  /** The stream ended: flush the decoder; an event without its closing blank line is dropped, as the standard says. */
  end(): void {
    this.feed(this.decoder.decode());
  }

  private feed(text: string): void {
    let s = this.pending + text;
    this.pending = '';
    if (this.skipLeadingLf && s.length > 0) {
      if (s.charCodeAt(0) === LF) s = s.slice(1);
      this.skipLeadingLf = false;
    }
    let start = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c !== LF && c !== CR) continue;
      this.line(s.slice(start, i));
      if (c === CR) {
        if (i + 1 === s.length) this.skipLeadingLf = true;
        else if (s.charCodeAt(i + 1) === LF) i++;
      }
      start = i + 1;
    }
    this.pending = s.slice(start);
    if (this.pending.length > MAX_SSE_LINE) throw new Error(`event stream line over ${MAX_SSE_LINE} characters`);
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length > 0) {
        const event: SseEvent = { event: this.eventType || 'message', data: this.data.join('\n') };
        if (this.lastEventId !== undefined) event.id = this.lastEventId;
        this.onEvent(event);
      }
      this.eventType = '';
      this.data = [];
      return;
    }
    if (line.charCodeAt(0) === 58 /* ':' comment */) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event': this.eventType = value; break;
      case 'data': this.data.push(value); break;
      case 'id': if (!value.includes('\0')) this.lastEventId = value; break;
      case 'retry': if (/^\d+$/.test(value)) this.retryMs = Number(value); break;
    }
  }
}
