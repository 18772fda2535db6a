/**
 * Conditional writes (RFC 9110 §13.1.1): the `If-Match` header of a request, read into the
 * domain's `IfMatch`. Comparison is strong, so weak entity-tags (`W/"…"`) never match.
 */
import type { FastifyRequest } from 'fastify';
import { invalid } from '../../lib/errors.js';
import type { IfMatch } from '../domain/mcp.js';

const ENTITY_TAG = /^(W\/)?"[\x21\x23-\x7e\x80-\xff]*"$/;

/** The request's `If-Match` precondition; undefined without the header. A malformed one is a 400 naming it. */
export function ifMatchOf(req: FastifyRequest): IfMatch | undefined {
  const raw = req.headers['if-match'];
  if (raw === undefined) return undefined;
  const value = (Array.isArray(raw) ? raw.join(',') : raw).trim();
  if (value === '*') return '*';
  const tags = value.split(',').map((t) => t.trim()).filter((t) => t !== '');
  if (tags.length === 0 || !tags.every((t) => ENTITY_TAG.test(t))) {
    throw invalid('If-Match', `must be * or a list of quoted entity-tags as the ETag header gives them (e.g. "k3J…"), got ${JSON.stringify(value.slice(0, 100))}`);
  }
  return tags.filter((t) => !t.startsWith('W/'));
}
