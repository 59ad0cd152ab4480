import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestApiClient } from '../support/api-client.js';
import { allowLoopbackMedia } from '../support/e2e-environment.js';
import { runCli, spawnCli, startServerProcess } from '../support/server-process.js';
import { tempDir } from '../support/temp-dir.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/** Renders long enough that a kill lands in the middle of work. */
const slowRender = { prompt: 'a storm over the sea', size: '1920*1080', duration: 8 };
const serverArgs = ['--lease-seconds', '2', '--worker-concurrency', '1', '--shutdown-timeout-seconds', '0'];

async function setUp() {
  const dataDir = tempDir();
  const key = (await runCli(['keys', 'create', '--data-dir', dataDir])).stdout.trim();
  return { dataDir, key };
}

test('after kill -9 mid-render and a restart, every accepted task ends, each completed exactly once', async () => {
  const { dataDir, key } = await setUp();
  const first = await startServerProcess(dataDir, [...serverArgs, ...allowLoopbackMedia]);
  const client = new TestApiClient(first.url, key);
  // A completion is written with its webhook delivery, which outlives the process: one webhook
  // per task is the client's proof of one completion, which a killed process's logs cannot give.
  const receiver = new WebhookReceiver();
  const webhook = { url: await receiver.listen() };
  const ids: string[] = [];
  for (let index = 0; index < 3; index++) ids.push((await client.submit('wan2.7-t2v', { ...slowRender, seed: index, extra: { webhook } })).body.task_id);
  // Wait until the first task is being rendered, then kill the server without warning.
  for (;;) {
    const { body } = await client.result(ids[0]);
    if (body.task.status === 'TASK_STATUS_PROCESSING') break;
    await sleep(20);
  }
  await first.kill9();

  const second = await startServerProcess(dataDir, [...serverArgs, ...allowLoopbackMedia]);
  const again = new TestApiClient(second.url, key);
  for (const id of ids) {
    const result = await again.waitForEnd(id, 180_000);
    assert.equal(result.task.status, 'TASK_STATUS_SUCCEED', `${id}: ${result.task.reason}`);
    assert.equal(result.videos.length, 1);
    const video = await fetch(result.videos[0].video_url);
    assert.equal(video.status, 200);
    assert.ok((await video.arrayBuffer()).byteLength > 1000);
  }
  const told = await receiver.tasksTold(ids.length);
  assert.deepEqual(told.sort(), ids.concat().sort(), 'each task completed exactly once: one webhook each');
  assert.equal(await second.stop(), 0);
});

test('SIGTERM hands running work back to the queue, four times over, and the next start still finishes it', async () => {
  const { dataDir, key } = await setUp();
  const first = await startServerProcess(dataDir, serverArgs);
  const client = new TestApiClient(first.url, key);
  const id = (await client.submit('wan2.7-t2v', slowRender)).body.task_id;
  for (;;) {
    if ((await client.result(id)).body.task.status === 'TASK_STATUS_PROCESSING') break;
    await sleep(20);
  }
  assert.equal(await first.stop(), 0, 'a graceful exit');
  assert.ok(first.logs.some((entry) => entry.task_id === id && entry.msg === 'task handed back'));

  // More orderly restarts than max_attempts allows starts: hand-backs are not failed attempts.
  for (let restart = 0; restart < 3; restart++) {
    const again = await startServerProcess(dataDir, serverArgs);
    const client = new TestApiClient(again.url, key);
    for (;;) {
      if ((await client.result(id)).body.task.status === 'TASK_STATUS_PROCESSING') break;
      await sleep(20);
    }
    assert.equal(await again.stop(), 0);
  }

  const last = await startServerProcess(dataDir, serverArgs);
  const result = await new TestApiClient(last.url, key).waitForEnd(id, 120_000);
  assert.equal(result.task.status, 'TASK_STATUS_SUCCEED', result.task.reason);
  assert.equal(await last.stop(), 0);
});

test('a SIGTERM while the server is still starting drains it once started: exit 0, not death by the signal', async () => {
  const dataDir = tempDir();
  // Sent the moment the HTTP port listens, while the start still creates the first key and
  // starts the worker: without a handler yet, the signal's default action would end the process.
  const child = spawnCli(['serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir]);
  const exited = once(child, 'exit');
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    if (line.includes('"Server listening at')) child.kill('SIGTERM');
  });
  const [code, signal] = await exited;
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, lines.join('\n'));
  assert.ok(lines.some((line) => line.includes('"shutting down"')), lines.join('\n'));
});
