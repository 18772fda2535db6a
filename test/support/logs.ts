/** A logger whose JSON lines a test reads back. */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../src/lib/logger.js';

/**
 * A debug-level pino logger and the lines it wrote, parsed; with `MCPGATE_TEST_LOG` set the lines
 * also go to stderr.
 */
export function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      if (process.env.MCPGATE_TEST_LOG) process.stderr.write(chunk);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}
