import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { lazyRequestLogger } from '../../src/http/request-logger.js';

test("a request's logger is made when it first logs, with the request's bindings", () => {
  const lines: Record<string, unknown>[] = [];
  const parent = pino({ level: 'info' }, new Writable({ write: (chunk, _encoding, done) => done(void lines.push(JSON.parse(String(chunk)))) }));
  let children = 0;
  const counting = Object.assign(Object.create(parent), {
    child: (...args: Parameters<typeof parent.child>) => {
      children++;
      return parent.child(...args);
    },
  });
  const logger = lazyRequestLogger(counting, { reqId: 'req-7' }, {});
  assert.equal(children, 0, 'nothing made for a request that does not log');
  logger.debug('below the level');
  logger.error({ err: new Error('boom') }, 'request failed');
  logger.info('second line');
  assert.equal(children, 1, 'made once, on the first call');
  assert.deepEqual(
    lines.map((line) => [line.reqId, line.msg]),
    [
      ['req-7', 'request failed'],
      ['req-7', 'second line'],
    ],
  );
  assert.equal((lines[0].err as { message: string }).message, 'boom');
  assert.equal(logger.level, 'info');
  logger.level = 'debug';
  logger.debug('now shown');
  assert.equal(lines.at(-1)?.msg, 'now shown');
  logger.child({ part: 'x' }).info('from a child');
  assert.deepEqual([lines.at(-1)?.reqId, lines.at(-1)?.part], ['req-7', 'x']);
});
