import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type TaskStreamEvent, WanClient } from '../../src/client/index.js';
import { TestApiClient } from '../support/api-client.js';
import { runWan } from '../support/cli-run.js';
import { runCli, startServerProcess } from '../support/server-process.js';
import { tempDir } from '../support/temp-dir.js';

const dataDir = tempDir();
const key = (await runCli(['keys', 'create', '--data-dir', dataDir])).stdout.trim();
// One render at a time: a second task waits in the queue.
const server = await startServerProcess(dataDir, ['--worker-concurrency', '1', '--shutdown-timeout-seconds', '1']);
const api = new TestApiClient(server.url, key);
const sdk = new WanClient({ baseUrl: server.url, apiKey: key });
const wanEnv = { WAN_API_URL: server.url, WAN_API_KEY: key };
const quick = { prompt: 'a paper boat', size: '1280*720', duration: 2 } as const;
const slow = { prompt: 'a storm over the sea', size: '1920*1080', duration: 15 } as const;

/** The ffmpeg processes the server runs now (from /proc: `<pid> (<comm>) <state> <ppid> …`). */
function ffmpegChildren(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    const match = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
    if (match && Number(match[2]) === pid && /ffmpeg/.test(match[1])) children.push(Number(entry));
  }
  return children;
}

async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(20);
  }
}

test('cancel: a queued task ends at once; a running render’s ffmpeg is gone within 1 s; neither completes later', async () => {
  const running = (await api.submit('wan2.7-t2v', slow)).body.task_id;
  const queued = (await api.submit('wan2.7-t2v', slow)).body.task_id;
  await waitUntil('the render started', () => ffmpegChildren(server.child.pid!).length > 0);

  const cancelledQueued = await runWan(['cancel', queued, '--json'], wanEnv);
  assert.equal(cancelledQueued.code, 0, cancelledQueued.stderr);
  const queuedResult = JSON.parse(cancelledQueued.stdout);
  assert.equal(queuedResult.task.status, 'TASK_STATUS_FAILED');
  assert.equal(queuedResult.extra.error.reason, 'TASK_CANCELLED');
  assert.equal(queuedResult.extra.debug_info.execute_time_ms, '', 'it never started');

  const cancelledAt = Date.now();
  const result = await sdk.cancel(running);
  assert.equal(result.task.status, 'TASK_STATUS_FAILED');
  assert.equal(result.task.reason, 'the task was cancelled by its client');
  await waitUntil('ffmpeg stopped', () => ffmpegChildren(server.child.pid!).length === 0, 1000);
  assert.ok(Date.now() - cancelledAt <= 1000);

  const again = await runWan(['cancel', running], wanEnv);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /409 TASK_ALREADY_FINISHED/);
  assert.equal((await runWan(['cancel', 'no-such-task'], wanEnv)).code, 1);
  await sleep(1500);
  for (const id of [running, queued]) assert.equal((await api.result(id)).body.task.status, 'TASK_STATUS_FAILED');
  assert.ok(!server.logs.some((entry) => entry.msg === 'task succeeded' && (entry.task_id === running || entry.task_id === queued)));
});

test('the live stream carries a whole task to the SDK and to wan --wait, which do not poll', async () => {
  const taskId = await sdk.submit('wan2.7-t2v', quick);
  const events: TaskStreamEvent[] = [];
  for await (const event of sdk.events(taskId)) events.push(event);
  assert.ok(events.length >= 2);
  assert.equal(events[0].result.task.task_id, taskId);
  assert.equal(events.at(-1)!.result.task.status, 'TASK_STATUS_SUCCEED');
  assert.ok(events.every((event, index) => index === 0 || Number(event.id) > Number(events[index - 1].id)));

  const progress: number[] = [];
  let polled = 0;
  const counting = new WanClient({
    baseUrl: server.url,
    apiKey: key,
    fetch: (input, init) => {
      if (String(input).includes('/task-result')) polled++;
      return fetch(input, init);
    },
  });
  const result = await counting.run('wan2.7-t2v', { ...quick, seed: 11 }, { onProgress: (task) => progress.push(task.progress_percent) });
  assert.equal(result.task.status, 'TASK_STATUS_SUCCEED');
  assert.equal(progress.at(-1), 100);
  assert.equal(polled, 0, 'waitFor followed the stream');

  const cli = await runWan(['t2v', 'a lantern at dusk', '--size', '1280*720', '--duration', '2', '--wait', '--json'], wanEnv);
  assert.equal(cli.code, 0, cli.stderr);
  assert.equal(JSON.parse(cli.stdout).task.status, 'TASK_STATUS_SUCCEED');
});

test('concurrent submissions with one Idempotency-Key make one task; another body under it is refused', async () => {
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': 'checkout-42' };
  const send = (body: unknown) => fetch(`${server.url}/v3/async/wan2.7-t2v`, { method: 'POST', headers, body: JSON.stringify(body) });
  const answers = await Promise.all(Array.from({ length: 20 }, () => send({ ...quick, seed: 42 })));
  const ids = await Promise.all(answers.map(async (answer) => (await answer.json()).task_id));
  assert.ok(answers.every((answer) => answer.status === 200));
  assert.equal(new Set(ids).size, 1);
  const conflict = await send({ ...quick, seed: 43 });
  assert.equal(conflict.status, 422);
  assert.equal((await conflict.json()).metadata.field, 'Idempotency-Key');
  const cli = await runWan(['t2v', quick.prompt, '--size', quick.size, '--duration', '2', '--seed', '42', '--idempotency-key', 'checkout-42'], wanEnv);
  assert.equal(cli.stdout.trim(), ids[0], 'the CLI sends the header too');
  await sdk.waitFor(ids[0]);
});

test('wan tasks lists the key’s tasks newest first, a page at a time', async () => {
  const ownKey = (await runCli(['keys', 'create', '--data-dir', dataDir])).stdout.trim();
  const own = new WanClient({ baseUrl: server.url, apiKey: ownKey });
  const ids = [];
  for (let index = 0; index < 3; index++) ids.push(await own.submit('wan2.7-t2v', { ...quick, seed: index }));
  for (const id of ids) await own.cancel(id);
  const env = { WAN_API_URL: server.url, WAN_API_KEY: ownKey };
  const first = await runWan(['tasks', '--limit', '2'], env);
  assert.equal(first.code, 0, first.stderr);
  const rows = first.stdout.trim().split('\n');
  assert.match(rows[0], /^TASK\s+TYPE\s+STATUS\s+PROGRESS\s+CREATED\s+REASON$/);
  assert.deepEqual(rows.slice(1).map((row) => row.split(/\s+/)[0]), [ids[2], ids[1]]);
  assert.match(rows[1], /WAN_2_7_T2V\s+FAILED\s+0%\s+\d{4}-\d\d-\d\dT[\d:]+Z\s+TASK_CANCELLED/);
  const cursor = /--cursor (\S+)/.exec(first.stderr)?.[1];
  assert.ok(cursor, first.stderr);
  const second = await runWan(['tasks', '--limit', '2', '--cursor', cursor, '--json'], env);
  const page = JSON.parse(second.stdout);
  assert.deepEqual(page.tasks.map((task: any) => task.task.task_id), [ids[0]]);
  assert.equal(page.next_cursor, null);
  assert.equal((await runWan(['tasks', '--status', 'DONE'], env)).code, 2);
});

test('SIGTERM ends open live streams and the server exits', async () => {
  const taskId = (await api.submit('wan2.7-t2v', slow)).body.task_id;
  const response = await fetch(`${server.url}/v3/async/task-events?task_id=${taskId}`, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(response.status, 200);
  const body = response.text();
  await sleep(300);
  const stopping = Date.now();
  assert.equal(await server.stop(), 0);
  assert.ok(Date.now() - stopping < 10_000, 'an open stream did not hold the shutdown up');
  assert.match(await body, /event: task/);
});
