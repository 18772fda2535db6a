import type { FastifyRequest } from 'fastify';
import type { SpecWarning } from '../../model/spec-validation.js';

/**
 * What a write accepted as Higress accepts it though not as written: logged (server, file,
 * tool, field) and answered as `warnings` (each naming its file when the request named one).
 */
export function reportWarnings(req: FastifyRequest, server: string, warnings: readonly SpecWarning[], file?: string): { warnings?: SpecWarning[] } {
  if (warnings.length === 0) return {};
  const named = warnings.map((w) => (file ? { ...w, file } : { ...w }));
  for (const w of named) req.log.warn({ server, ...w }, `accepted as Higress accepts it: ${w.field}: ${w.message}`);
  return { warnings: named };
}
