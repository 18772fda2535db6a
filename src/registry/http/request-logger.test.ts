import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { lazyChildLogger } from './request-logger.js';

function logger(level: string, spy = true) {
  const lines: Record<string, unknown>[] = [];
  const out = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>); done(); } });
  const parent = pino({ level }, out);
  let children = 0;
  const child = parent.child.bind(parent);
  // Counts the children made of the parent (pino's children inherit the parent's own properties: only where asked).
  if (spy) parent.child = ((b: pino.Bindings, o?: pino.ChildLoggerOptions) => { children += 1; return child(b, o); }) as unknown as typeof parent.child;
  return { parent, lines, children: () => children };
}

test('a request logger makes its child on the first line written, with the request bindings', () => {
  const l = logger('info');
  const log = lazyChildLogger.call(undefined, l.parent as unknown as FastifyBaseLogger, { reqId: 'r-1' }, {});
  assert.equal(log.level, 'info');
  log.debug('below the level');
  assert.equal(l.children(), 0, 'a line below the level makes no child');
  assert.equal(l.lines.length, 0);
  log.info({ code: 'X' }, 'request refused');
  log.warn('again');
  assert.equal(l.children(), 1);
  assert.deepEqual(l.lines.map((x) => [x.reqId, x.msg, x.code]), [['r-1', 'request refused', 'X'], ['r-1', 'again', undefined]]);
});

test('a request logger\'s child loggers and level work as pino\'s', () => {
  const l = logger('info', false);
  const log = lazyChildLogger.call(undefined, l.parent as unknown as FastifyBaseLogger, { reqId: 'r-2' }, {});
  log.child({ part: 'x' }).error('failed');
  assert.deepEqual(l.lines.map((x) => [x.reqId, x.part, x.msg]), [['r-2', 'x', 'failed']]);
  log.level = 'debug';
  log.debug('now written');
  assert.equal(l.lines.at(-1)?.msg, 'now written');
  assert.equal(l.parent.level, 'info', 'the parent keeps its level');
});
