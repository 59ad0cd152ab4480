import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { LocalBlobStore } from '../../src/blobs/local/local-blob-store.js';
import { UrlSigner } from '../../src/blobs/url-signer.js';
import { EngineRegistry } from '../../src/engines/engine-registry.js';
import type { MediaFetcher } from '../../src/media/media-fetcher.js';
import { ApiError } from '../../src/spec/api-error.js';
import { TaskStatus } from '../../src/spec/task-status.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { Worker, type WorkerOptions } from '../../src/tasks/worker.js';
import { FakeEngine } from '../support/fake-engine.js';
import { tempDir } from '../support/temp-dir.js';

const noMedia: MediaFetcher = { fetchAll: async () => ({}) };

function setUp(engine: FakeEngine, overrides: Partial<WorkerOptions> = {}) {
  const dir = tempDir();
  const store = new SqliteStore(path.join(dir, 'wan.db'));
  const blobs = new LocalBlobStore(path.join(dir, 'blobs'), new UrlSigner('s'), () => 'http://127.0.0.1:1');
  const options: WorkerOptions = {
    store,
    blobs,
    engines: new EngineRegistry([engine], engine.name),
    media: noMedia,
    logger: pino({ level: 'silent' }),
    workRoot: path.join(dir, 'work'),
    concurrency: 2,
    leaseMs: 2000,
    maxAttempts: 3,
    queuePollMs: 50,
    ...overrides,
  };
  return { dir, store, options, worker: new Worker(options) };
}

async function submit(store: SqliteStore, id: string): Promise<void> {
  await store.insert({ id, keyId: 'k', model: 'wan2.7-t2v', request: { prompt: 'p' }, seed: 42, createdAt: Date.now() });
}

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await sleep(10);
  }
}

test('an idle worker starts a submitted task at once, stores the video and cleans up', async () => {
  const engine = new FakeEngine({ renderMs: 100 });
  // A poll far slower than the bound below: only the submit notification can start it in time.
  const { store, worker, options, dir } = setUp(engine, { queuePollMs: 10_000 });
  await worker.start();
  await submit(store, 't1');
  const submittedAt = Date.now();
  worker.notify();
  const task = await waitFor(() => store.get('t1'), (row) => row?.status === TaskStatus.Succeed);
  assert.ok(engine.starts[0].at - submittedAt < 200, `dispatch took ${engine.starts[0].at - submittedAt} ms`);
  assert.deepEqual(task?.results, [{ key: 'videos/t1/0.mp4', type: 'mp4' }]);
  assert.equal(task?.extra.engine, 'fake');
  assert.equal(readFileSync(path.join(dir, 'blobs/videos/t1/0.mp4'), 'utf8'), 'video of t1 seed 42');
  await waitFor(async () => readdirSync(options.workRoot), (entries) => entries.length === 0);
  await worker.stop(1000);
});

test('progress is written while the engine runs', async () => {
  const engine = new FakeEngine({ renderMs: 600 });
  const { store, worker } = setUp(engine);
  await worker.start();
  await submit(store, 't1');
  worker.notify();
  const running = await waitFor(() => store.get('t1'), (row) => (row?.progressPercent ?? 0) > 0 && row?.status === TaskStatus.Processing);
  assert.ok(running!.progressPercent < 100);
  assert.ok(running!.startedAt! >= running!.createdAt);
  await waitFor(() => store.get('t1'), (row) => row?.status === TaskStatus.Succeed);
  await worker.stop(1000);
});

test('an engine failure fails the task with its reason', async () => {
  const error = new ApiError(400, 'ILLEGAL_PROMPT', 'the prompt was refused', { field: 'prompt' });
  const { store, worker } = setUp(new FakeEngine({ failWith: error }));
  await worker.start();
  await submit(store, 't1');
  const task = await waitFor(() => store.get('t1'), (row) => row?.status === TaskStatus.Failed);
  assert.deepEqual(task?.error, error.toBody());
  await worker.stop(1000);
});

test('media that cannot be had fail the task before the engine starts', async () => {
  const engine = new FakeEngine();
  const refused = new ApiError(400, 'MEDIA_DOWNLOAD_FAILED', 'audio_url: cannot download', { field: 'audio_url' });
  const { store, worker } = setUp(engine, { media: { fetchAll: async () => Promise.reject(refused) } });
  await worker.start();
  await submit(store, 't1');
  const task = await waitFor(() => store.get('t1'), (row) => row?.status === TaskStatus.Failed);
  assert.equal(task?.error?.reason, 'MEDIA_DOWNLOAD_FAILED');
  assert.equal(engine.starts.length, 0);
  await worker.stop(1000);
});

test('a task whose worker died is taken up by another after the lease, and completes once', async () => {
  const engine = new FakeEngine({ renderMs: 200 });
  const first = setUp(engine, { leaseMs: 600 });
  await submit(first.store, 't1');
  // A worker that leased the task and then died: it never renews nor finishes.
  await first.store.leaseNext('dead-worker', Date.now(), 600);
  const second = new Worker(first.options);
  await second.start();
  const task = await waitFor(() => first.store.get('t1'), (row) => row?.status === TaskStatus.Succeed);
  assert.equal(task?.attempts, 2);
  assert.equal(engine.starts.length, 1);
  assert.equal(await first.store.succeed('t1', 'dead-worker', [], {}, Date.now()), false, 'the dead worker cannot complete it');
  await second.stop(1000);
});

test('a task is given up after max_attempts starts whose workers died', async () => {
  const engine = new FakeEngine();
  const { store, worker } = setUp(engine, { maxAttempts: 2, leaseMs: 100 });
  await submit(store, 't1');
  await store.leaseNext('dead-1', Date.now() - 1000, 100);
  await store.leaseNext('dead-2', Date.now(), 100);
  await sleep(150);
  await worker.start();
  const task = await waitFor(() => store.get('t1'), (row) => row?.status === TaskStatus.Failed);
  assert.match(task!.error!.message, /started 2 times/);
  assert.equal(engine.starts.length, 0);
  await worker.stop(1000);
});

test('stopping waits for running tasks, then hands the rest back to the queue', async () => {
  const engine = new FakeEngine({ renderMs: 5000 });
  const { store, worker, options } = setUp(engine, { concurrency: 1 });
  await worker.start();
  await submit(store, 't1');
  await waitFor(() => store.get('t1'), (row) => row?.operation !== null);
  await worker.stop(100);
  const task = await store.get('t1');
  assert.equal(task?.status, TaskStatus.Queued);
  assert.equal(task?.leaseOwner, null);
  assert.equal(engine.cancelled.length, 1, 'the engine work was stopped');
  assert.equal(existsSync(options.workRoot) ? readdirSync(options.workRoot).length : 0, 0);
});

test('concurrency bounds the tasks run at once', async () => {
  const engine = new FakeEngine({ renderMs: 300 });
  const { store, worker } = setUp(engine, { concurrency: 2 });
  await worker.start();
  for (const id of ['a', 'b', 'c', 'd']) await submit(store, id);
  worker.notify();
  await sleep(100);
  assert.equal(worker.busy, 2);
  for (const id of ['a', 'b', 'c', 'd']) await waitFor(() => store.get(id), (row) => row?.status === TaskStatus.Succeed);
  await worker.stop(1000);
});
