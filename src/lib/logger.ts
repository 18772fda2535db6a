import { pino } from 'pino';
import type { Logger } from 'pino';

/** The process logger: JSON lines on stdout (pino), secrets redacted. */
export function createLogger(level: string, name = 'mcpgate'): Logger {
  return pino({
    name, level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]', 'req.headers.accesstoken', 'password', '*.password'],
      censor: '[redacted]',
    },
  });
}

export type { Logger };
