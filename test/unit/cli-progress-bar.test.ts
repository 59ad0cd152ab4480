import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProgressBar } from '../../src/cli/progress-bar.js';

function task(status: string, percent: number, eta: number) {
  return { task_id: 't', task_type: 'WAN_2_7_T2V', status, reason: '', eta, progress_percent: percent } as never;
}

test('on a terminal the bar is redrawn in place with the percentage, status and server ETA', async () => {
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 100 }) as unknown as NodeJS.WriteStream;
  let written = '';
  (stream as unknown as PassThrough).on('data', (chunk) => (written += chunk));
  const bar = new ProgressBar(stream, true);
  bar.update(task('TASK_STATUS_PROCESSING', 50, 3));
  // Polls are at least a second apart; cli-progress redraws at most ten times a second.
  await sleep(150);
  bar.update(task('TASK_STATUS_PROCESSING', 75, 1));
  await sleep(150);
  bar.update(task('TASK_STATUS_SUCCEED', 100, 0));
  bar.finish();
  assert.match(written, /\[█{18}░{6}\] 75%  PROCESSING  ETA 0:01/);
  assert.match(written, /\[█{24}\] 100%  SUCCEED/);
  assert.match(written, /\x1b\[/, 'drawn with terminal control sequences');
});
