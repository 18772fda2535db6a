/**
 * The tool result of a REST call: the backend's answer (or the arguments alone, for a direct
 * response) through the response templates, images and audio as content blocks, errors as
 * `isError` results, text capped, JSON objects as structured content when the tool declares an
 * output schema.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { DEFAULT_MAX_OUTPUT_BYTES, TemplateError } from '../../template/index.js';
import type { RenderClient } from '../../template/index.js';
import type { CallToolResult, ContentBlock } from '../executor.js';
import type { CompiledResponse } from './compile.js';
import { render } from './compile.js';
import type { Json } from './wire.js';
import { isRecord, tryJson } from './wire.js';

/** A tool result of one text block. */
export function textResult(message: string, isError = false): CallToolResult {
  return isError ? { content: [{ type: 'text', text: message }], isError: true } : { content: [{ type: 'text', text: message }] };
}

/** A template failed to render: the tool result that says which one and why. */
export function renderFailure(err: TemplateError): CallToolResult {
  return textResult(`error rendering ${err.templateName}: ${err.detail}`, true);
}

/** Cuts a text at `max` UTF-8 bytes on a character boundary, saying how much was left out. */
export function capText(value: string, max: number): string {
  if (value.length * 3 <= max) return value;
  const bytes = Buffer.byteLength(value);
  if (bytes <= max) return value;
  const buf = Buffer.from(value);
  let cut = max;
  while (cut > 0 && ((buf[cut] as number) & 0xc0) === 0x80) cut--;
  return `${buf.subarray(0, cut).toString('utf8')}\n… [truncated: ${bytes - cut} more bytes]`;
}

/** The last Content-Type seen and its media type: a backend answers with the same one every time. */
let lastContentType = '';
let lastMediaType = '';

/** The media type of a Content-Type header, lower-case, without parameters. */
function mediaType(contentType: string | string[] | undefined): string {
  if (typeof contentType !== 'string') return '';
  if (contentType !== lastContentType) {
    lastMediaType = (contentType.split(';', 1)[0] as string).trim().toLowerCase();
    lastContentType = contentType;
  }
  return lastMediaType;
}

/** `image` or `audio` for a Content-Type whose answer becomes image or audio content. */
export function mediaKind(contentType: string | string[] | undefined): 'image' | 'audio' | undefined {
  const media = mediaType(contentType);
  return media.startsWith('image/') ? 'image' : media.startsWith('audio/') ? 'audio' : undefined;
}

/** A response body as template data: its JSON value, else the text itself. */
function bodyOf(raw: string): Json {
  const parsed = tryJson(raw);
  return parsed.ok ? parsed.value : raw;
}

/** Where a body's JSON object or array starts (after leading whitespace); -1 for any other body. */
function jsonTextStart(raw: string): number {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x7b || c === 0x5b) return i; // { [
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return -1;
  }
  return -1;
}

/** Maps one REST tool's backend answers to tool results. */
export class RestResponse {
  constructor(
    private readonly r: CompiledResponse,
    /** Text of a result is cut at this many UTF-8 bytes. */
    private readonly maxText: number,
    /** Image and audio answers over this many bytes are refused (isError). */
    readonly maxMedia: number,
  ) {}

  /** A direct response: the response template over the arguments, no backend call. */
  direct(data: Json, client?: RenderClient): CallToolResult {
    let out: string;
    try {
      out = this.r.body ? this.r.body.render(data, client && { client }) : '';
    } catch (err) {
      if (err instanceof TemplateError) return renderFailure(err);
      throw err;
    }
    const result = textResult(capText(out, this.maxText));
    if (this.r.hasOutputSchema) {
      const parsed = tryJson(out);
      if (parsed.ok && isRecord(parsed.value)) result.structuredContent = parsed.value;
    }
    return result;
  }

  /** The result of the backend's answer. */
  answer(status: number, headers: IncomingHttpHeaders, buf: Buffer, client?: RenderClient): CallToolResult {
    if (status < 200 || status >= 300) return this.errorResult(status, headers, buf, client);
    const kind = mediaKind(headers['content-type']);
    if (kind !== undefined) {
      if (buf.length > this.maxMedia) return textResult(`the backend's ${kind} is over ${this.maxMedia} bytes, the limit for images and audio`, true);
      const media = mediaType(headers['content-type']);
      const block: ContentBlock = { type: kind, data: buf.toString('base64'), mimeType: media };
      return { content: [block] };
    }
    const raw = buf.toString('utf8');
    let body: Json | undefined; // the body as data, parsed on first use
    let out: string;
    try {
      const { body: template, prepend, append } = this.r;
      if (template) {
        // `{{.}}` alone prints a JSON object or array body as received, as Higress does (its
        // engine prints the raw JSON text), without parsing and re-serialising it.
        const at = template.printsDot && buf.length <= DEFAULT_MAX_OUTPUT_BYTES ? jsonTextStart(raw) : -1;
        if (at >= 0) out = at === 0 ? raw : raw.slice(at);
        else out = template.render(raw === '' ? undefined : (body = bodyOf(raw)), client && { client });
      } else if (prepend || append) {
        const data = (prepend?.template ?? append?.template) ? (body = bodyOf(raw)) : undefined;
        out = (prepend ? render(prepend, data, client) : '') + raw + (append ? render(append, data, client) : '');
      } else out = raw;
    } catch (err) {
      if (err instanceof TemplateError) return renderFailure(err);
      throw err;
    }
    const result = textResult(out === '' ? 'success' : capText(out, this.maxText));
    if (this.r.hasOutputSchema && raw !== '') {
      body ??= bodyOf(raw);
      if (isRecord(body)) result.structuredContent = body;
    }
    return result;
  }

  private errorResult(status: number, headers: IncomingHttpHeaders, buf: Buffer, client: RenderClient | undefined): CallToolResult {
    const raw = buf.toString('utf8');
    if (this.r.error) {
      const parsed = tryJson(raw);
      const fields: Record<string, unknown> = parsed.ok && isRecord(parsed.value) ? { ...parsed.value } : {};
      const h: Record<string, string> = { ':status': String(status) };
      for (const [k, v] of Object.entries(headers)) if (v !== undefined) h[k] = typeof v === 'string' ? v : v.join(', ');
      fields['_headers'] = h;
      try {
        const out = this.r.error.render(fields as Json, client && { client });
        if (out !== '') return textResult(capText(out, this.maxText), true);
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        return renderFailure(err);
      }
    }
    return textResult(raw === '' ? `HTTP ${status}` : capText(`HTTP ${status}: ${raw}`, this.maxText), true);
  }
}
