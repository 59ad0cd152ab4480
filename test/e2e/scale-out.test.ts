import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { resolveFfmpeg } from '../../src/media/ffmpeg-binaries.js';
import { probeMedia } from '../../src/media/probe.js';
import { TestApiClient } from '../support/api-client.js';
import { s3Blobs, startCluster } from '../support/cluster.js';
import { serveDirectory } from '../support/file-server.js';
import { makeAudio, makeImage, makeVideo } from '../support/media-fixtures.js';
import { postgresUnavailable, queryAt } from '../support/postgres.js';
import { startS3TestServer } from '../support/s3-test-server.js';
import type { ServerProcess } from '../support/server-process.js';
import { tempDir } from '../support/temp-dir.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * Scale-out as an operator sets it up: real `wan serve` processes on the machine's PostgreSQL,
 * one serving the API only and two running tasks only, each with a data directory of its own,
 * sharing result files through an S3 bucket (s3rver on loopback). Every test checks what must hold across processes: tasks succeed whichever process
 * runs them, a worker killed mid-render loses nothing and completes nothing twice, a revoked key
 * stops everywhere, and a database restart under load costs no accepted task.
 */
const skip = await postgresUnavailable();

/** Renders long enough that a kill lands in the middle of one. */
const slowRender = { prompt: 'a storm over the sea', size: '1920*1080', duration: 8 };
/** Short leases, so the other worker takes over a killed one's task within seconds. */
const workerArgs = ['--worker-concurrency', '1', '--lease-seconds', '3', '--shutdown-timeout-seconds', '0'];

function logsOf(servers: ServerProcess[], message: string, taskId?: string) {
  return servers.flatMap((server) => server.logs).filter((entry) => entry.msg === message && (taskId === undefined || entry.task_id === taskId));
}

/** Whether a process logged the end of a task's attempt. */
function endedIn(server: ServerProcess, taskId: string): boolean {
  return server.logs.some((entry) => entry.task_id === taskId && /^task (succeeded|failed|handed back|result discarded)/.test(String(entry.msg)));
}

/** Everything the processes logged about a task, each line with its process: for an assertion's message. */
function storyOf(servers: ServerProcess[], taskId: string): string {
  return servers
    .flatMap((server, index) => server.logs.filter((entry) => entry.task_id === taskId).map((entry) => `process ${index}: ${JSON.stringify(entry)}`))
    .join('\n');
}

/** What the database holds of each task's completions: its leases taken, and the webhook deliveries its end wrote. */
async function recordedCompletions(ids: string[]): Promise<Map<string, { attempts: number; deliveries: number }>> {
  const { rows } = await queryAt(
    cluster.databaseUrl,
    `SELECT id, attempts, (SELECT count(*) FROM webhook_deliveries WHERE task_id = tasks.id)::int AS deliveries FROM tasks WHERE id = ANY($1)`,
    [ids],
  );
  return new Map(rows.map((row) => [row.id, { attempts: row.attempts, deliveries: row.deliveries }]));
}

/** The machine's PostgreSQL server: restart, stop, start. */
function pgctl(action: string) {
  return promisify(execFile)('pg_ctlcluster', ['--skip-systemctl-redirect', '15', 'main', action]);
}

/**
 * A task's end, or, when it does not come in time, an error that says what every process logged
 * of it and where the database left it (its status and lease), so that a stuck task can be
 * explained from the test's output alone.
 */
async function endOf(id: string, timeoutMs: number): Promise<any> {
  try {
    return await client.waitForEnd(id, timeoutMs);
  } catch (error) {
    const { rows } = await queryAt(
      cluster.databaseUrl,
      `SELECT status, attempts, lease_owner, lease_expires_at - (extract(epoch from clock_timestamp()) * 1000)::bigint AS lease_left_ms FROM tasks WHERE id = $1`,
      [id],
    ).catch((queryError: Error) => ({ rows: [{ unreadable: queryError.message }] }));
    throw new Error(`${(error as Error).message}; in the database: ${JSON.stringify(rows[0])}\n${storyOf(cluster.all(), id)}`);
  }
}

async function waitUntil(what: string, condition: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(25);
  }
}

/**
 * Set up once for the file, outside any test: the processes, schema and directories live until
 * the file ends (each helper stops or removes its own then).
 */
async function setUp() {
  const toolchain = await resolveFfmpeg();
  const mediaDir = tempDir();
  await Promise.all([
    makeImage(toolchain, path.join(mediaDir, 'wide.png'), { width: 640, height: 320 }),
    makeImage(toolchain, path.join(mediaDir, 'square.jpg'), { width: 400, height: 400 }),
    makeVideo(toolchain, path.join(mediaDir, 'clip.mp4'), { width: 480, height: 640, seconds: 3, audio: true }),
    makeAudio(toolchain, path.join(mediaDir, 'voice.wav'), { seconds: 3 }),
  ]);
  const media = await serveDirectory(mediaDir);
  const s3 = await startS3TestServer();
  // A second API process, to see a revoked key refused by each.
  const cluster = await startCluster({ blobs: s3Blobs(s3), apis: 2, workerArgs });
  return { toolchain, media, s3, cluster, client: new TestApiClient(cluster.api[0].url, cluster.key) };
}

const { toolchain, media, s3, cluster, client } = skip ? ({} as Awaited<ReturnType<typeof setUp>>) : await setUp();

describe('scale-out on PostgreSQL: API-only processes and two workers', { skip }, () => {
  test('set-up: a key made by wan keys against the database, one API-only process and two workers-only', async () => {
    assert.match(cluster.key, /^wan_/);
    for (const server of cluster.all()) assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
    const onWorker = await fetch(`${cluster.workers[0].url}/v3/async/task-result?task_id=x`, { headers: { authorization: `Bearer ${cluster.key}` } });
    assert.equal(onWorker.status, 404, 'a worker-only process serves no API');
  });

  test('tasks of all four models submitted to the API process are run by the workers and succeed, their videos presigned S3 URLs', async () => {
    const submissions: [string, Record<string, unknown>][] = [
      ['wan2.7-t2v', { prompt: 'a lighthouse at dusk', size: '1280*720', duration: 2, seed: 5 }],
      ['wan2.7-i2v', { image_url: media.url('wide.png'), driving_audio_url: media.url('voice.wav'), resolution: '720P', duration: 2 }],
      ['wan2.7-r2v', { prompt: 'character1 waves', media: [{ type: 'reference_image', url: media.url('square.jpg') }], size: '960*960', duration: 2 }],
      ['wan2.7-videoedit', { video_url: media.url('clip.mp4'), prompt: 'make it black and white', resolution: '720P', ratio: '1:1', duration: 2 }],
    ];
    const ids = [];
    for (const [model, body] of submissions) {
      const submitted = await client.submit(model, body);
      assert.equal(submitted.status, 200, JSON.stringify(submitted.body));
      ids.push(submitted.body.task_id as string);
    }
    for (const id of ids) {
      const result = await endOf(id, 120_000);
      assert.equal(result.task.status, 'TASK_STATUS_SUCCEED', `${id}: ${result.task.reason}\n${storyOf(cluster.all(), id)}`);
      // Written by a worker into the bucket, fetched from the bucket through a presigned URL.
      const url = new URL(result.videos[0].video_url);
      assert.equal(url.origin, s3.endpoint, 'served by the bucket, not by a process');
      assert.ok(url.searchParams.has('X-Amz-Signature'), `a presigned URL: ${url}`);
      const video = await fetch(url);
      assert.equal(video.status, 200);
      const file = path.join(tempDir(), `${id}.mp4`);
      await writeFile(file, Buffer.from(await video.arrayBuffer()));
      const info = await probeMedia(toolchain, file);
      assert.match(info.formatName, /mp4/, `${id}: an MP4`);
      assert.ok(info.video && info.durationSeconds > 1.5, `${id}: a video of about 2 s`);
      assert.equal(logsOf(cluster.workers, 'task succeeded', id).length, 1, `${id} completed once, by a worker`);
      assert.equal(logsOf(cluster.api, 'engine started', id).length, 0, 'the API process runs nothing');
    }
    for (const worker of cluster.workers) assert.ok(logsOf([worker], 'task succeeded').length >= 1, 'both workers took tasks');
  });

  test('a key revoked with wan keys stops working on every API process within seconds', async () => {
    const key = (await cluster.keys(['create', '--name', 'short-lived'])).trim();
    const apis = cluster.api.map((server) => new TestApiClient(server.url, key));
    // Each process authenticates the key once, so its cache holds it when the key is revoked.
    for (const api of apis) assert.equal((await api.result('no-such-task')).status, 404);
    await cluster.keys(['revoke', key.slice(0, 12)]);
    const revokedAt = Date.now();
    for (const api of apis) {
      await waitUntil('the revoked key is refused', async () => (await api.result('no-such-task')).status === 403, 10_000);
    }
    // Each process trusts a key it authenticated for 2 s (the key cache) before asking again.
    const delay = Date.now() - revokedAt;
    assert.ok(delay < 3000, `refused everywhere ${delay} ms after the revocation`);
  });

  test('the database restarted under load costs no accepted task; stopped, every process says 503 and recovers by itself', async () => {
    const accepted: string[] = [];
    let loading = true;
    const load = (async () => {
      for (let index = 0; loading; index++) {
        const submitted = await client.submit('wan2.7-t2v', { prompt: `under load ${index}`, size: '1280*720', duration: 2, seed: index }).catch(() => undefined);
        if (submitted?.status === 200) accepted.push(submitted.body.task_id);
        await sleep(100);
      }
    })();
    await sleep(1500);
    const before = accepted.length;
    await pgctl('restart');
    await waitUntil('the API process is ready again', async () => (await fetch(`${cluster.api[0].url}/readyz`)).status === 200, 30_000);
    await sleep(3000);
    loading = false;
    await load;
    assert.ok(before > 0 && accepted.length > before, `tasks were accepted before (${before}) and after (${accepted.length - before}) the restart`);

    for (const id of accepted) {
      const result = await endOf(id, 240_000);
      assert.equal(result.task.status, 'TASK_STATUS_SUCCEED', `${id}: ${result.task.reason}\n${storyOf(cluster.all(), id)}`);
      // At most once: a success whose answer was lost with the connection is retried, finds the
      // task ended, and is logged as discarded.
      assert.ok(logsOf(cluster.all(), 'task succeeded', id).length <= 1, `${id} completed at most once`);
    }
    // A restart is over in a moment; a stopped server shows what every process says meanwhile.
    await pgctl('stop');
    try {
      for (const server of cluster.all()) {
        await waitUntil('/readyz says 503 while the database is away', async () => (await fetch(`${server.url}/readyz`)).status === 503, 10_000);
      }
    } finally {
      await pgctl('start');
    }
    for (const server of cluster.all()) {
      await waitUntil('/readyz says 200 again by itself', async () => (await fetch(`${server.url}/readyz`)).status === 200, 30_000);
      // The listening connection retries on its own schedule, waiting up to 5 s between tries
      // (pg-events.ts): it may come back a little after the pool that /readyz pings.
      await waitUntil('it listens to the others again', () => logsOf([server], 'hearing other processes again').length >= 1, 15_000);
    }
    const after = await client.submit('wan2.7-t2v', { prompt: 'after the database came back', size: '1280*720', duration: 2 });
    assert.equal((await endOf(after.body.task_id, 120_000)).task.status, 'TASK_STATUS_SUCCEED');
  });

  test('kill -9 of a worker mid-render loses no task, and none is completed twice', async () => {
    // Each completion is written in one statement with its webhook delivery: the deliveries are
    // the durable count of completions, which a killed process's lost log lines cannot hide.
    const receiver = new WebhookReceiver();
    const webhook = { url: await receiver.listen() };
    const ids: string[] = [];
    for (let index = 0; index < 4; index++) ids.push((await client.submit('wan2.7-t2v', { ...slowRender, seed: index, extra: { webhook } })).body.task_id);
    let victim: ServerProcess | undefined;
    let running: string | undefined;
    await waitUntil(
      'a worker starts rendering',
      () => {
        for (const worker of cluster.workers.filter((candidate) => candidate.child.exitCode === null)) {
          running = ids.find((id) => logsOf([worker], 'engine started', id).length > 0 && !endedIn(worker, id));
          victim = worker;
          if (running !== undefined) return true;
        }
        return false;
      },
      60_000,
    );
    await victim!.kill9();
    for (const id of ids) {
      const result = await endOf(id, 180_000);
      assert.equal(result.task.status, 'TASK_STATUS_SUCCEED', `${id}: ${result.task.reason}\n${storyOf(cluster.all(), id)}`);
      assert.ok(logsOf(cluster.all(), 'task succeeded', id).length <= 1, `${id}: no process says it completed it twice\n${storyOf(cluster.all(), id)}`);
    }
    const recorded = await recordedCompletions(ids);
    for (const id of ids) assert.equal(recorded.get(id)?.deliveries, 1, `${id} completed exactly once\n${storyOf(cluster.all(), id)}`);
    // Killed mid-render, its task was leased a second time, by the other worker, which ended it.
    assert.ok((recorded.get(running!)?.attempts ?? 0) >= 2, `the killed worker's task was taken over\n${storyOf(cluster.all(), running!)}`);
    const survivor = cluster.workers.find((worker) => worker !== victim)!;
    assert.equal(logsOf([survivor], 'engine started', running).length, 1, 'the other worker rendered it again');
    // The client is told of each end once.
    const told = await receiver.tasksTold(ids.length);
    assert.deepEqual(told.sort(), ids.concat().sort(), 'one webhook per task');
  });

  test('SIGTERM drains every process left cleanly', async () => {
    for (const server of cluster.all()) if (server.child.exitCode === null && server.child.signalCode === null) assert.equal(await server.stop(), 0);
  });
});
