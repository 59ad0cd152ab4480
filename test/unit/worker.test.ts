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
import { EngineUnavailable } from '../../src/spec/engine.js';
import { TaskStatus } from '../../src/spec/task-status.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { TaskStore } from '../../src/spec/task-store.js';
import type { ModelId } from '../../src/models/model.js';
import { Worker, type WorkerOptions } from '../../src/tasks/worker/worker.js';
import { models } from '../../src/models/registry.js';
import { FakeEngine } from '../support/fake-engine.js';
import { tempDir } from '../support/temp-dir.js';

const allModels = models.map((model) => model.id);
const noMedia: MediaFetcher = { fetchAll: async () => ({}) };

function setUp(engine: FakeEngine, overrides: Partial<WorkerOptions> = {}) {
  const dir = tempDir();
  const sqlite = new SqliteStore(path.join(dir, 'wan.db'));
  const store = sqlite.tasks;
  const blobs = new LocalBlobStore(path.join(dir, 'blobs'), new UrlSigner('s'), () => 'http://127.0.0.1:1');
  const options: WorkerOptions = {
    store,
    events: sqlite.events,
    blobs,
    engines: new EngineRegistry([engine], engine.name),
    media: noMedia,
    logger: pino({ level: 'silent' }),
    workRoot: path.join(dir, 'work'),
    leaseMs: 2000,
    maxAttempts: 3,
    queuePollMs: 50,
    ...overrides,
  };
  return { dir, store, options, worker: new Worker(options) };
}

async function submit(store: TaskStore, id: string, model: ModelId = 'wan2.7-t2v'): Promise<void> {
  await store.insert({ id, keyId: 'k', model, request: { prompt: 'p' }, seed: 42, webhookUrl: null, createdAt: Date.now(), billableSeconds: 5 });
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
  const { store, worker, options } = setUp(engine, { media: { fetchAll: async () => Promise.reject(refused) } });
  await worker.start();
  await submit(store, 't1');
  const task = await waitFor(() => store.get('t1'), (row) => row?.status === TaskStatus.Failed);
  assert.equal(task?.error?.reason, 'MEDIA_DOWNLOAD_FAILED');
  assert.equal(engine.starts.length, 0);
  await worker.stop(1000);
  assert.deepEqual(readdirSync(options.workRoot), [], 'the task directory is removed on failure too');
});

test('a task whose worker died is taken up by another after the lease, and completes once', async () => {
  const engine = new FakeEngine({ renderMs: 200 });
  const first = setUp(engine, { leaseMs: 600 });
  await submit(first.store, 't1');
  // A worker that leased the task and then died: it never renews nor finishes.
  await first.store.leaseNext('dead-worker', 600, allModels);
  const second = new Worker(first.options);
  await second.start();
  const task = await waitFor(() => first.store.get('t1'), (row) => row?.status === TaskStatus.Succeed);
  assert.equal(task?.attempts, 2);
  assert.equal(engine.starts.length, 1);
  assert.equal(await first.store.succeed('t1', 'dead-worker', { results: [], extra: {}, usage: null }, Date.now()), false, 'the dead worker cannot complete it');
  await second.stop(1000);
});

test('a task is given up after max_attempts starts whose workers died', async () => {
  const engine = new FakeEngine();
  const { store, worker } = setUp(engine, { maxAttempts: 2, leaseMs: 100 });
  await submit(store, 't1');
  await store.leaseNext('dead-1', 50, allModels);
  await sleep(100);
  await store.leaseNext('dead-2', 50, allModels);
  await sleep(100);
  await worker.start();
  const task = await waitFor(() => store.get('t1'), (row) => row?.status === TaskStatus.Failed);
  assert.match(task!.error!.message, /started 2 times/);
  assert.equal(engine.starts.length, 0);
  await worker.stop(1000);
});

test('stopping waits for running tasks, then hands the rest back to the queue', async () => {
  const engine = new FakeEngine({ renderMs: 5000 });
  const { store, worker, options } = setUp(engine);
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

test("an engine's capacity bounds the tasks run at once", async () => {
  const engine = new FakeEngine({ renderMs: 300, capacity: 2 });
  const { store, worker } = setUp(engine);
  await worker.start();
  for (const id of ['a', 'b', 'c', 'd']) await submit(store, id);
  worker.notify();
  await sleep(100);
  assert.equal(worker.busy, 2);
  for (const id of ['a', 'b', 'c', 'd']) await waitFor(() => store.get(id), (row) => row?.status === TaskStatus.Succeed);
  await worker.stop(1000);
});

/** Two engines on the t2v route: the first is asked first, the second only when the first did not accept. */
function routed(first: FakeEngine, second: FakeEngine) {
  return new EngineRegistry([first, second], first.name, { 'wan2.7-t2v': [first.name, second.name] });
}

test('an engine that does not accept the task (EngineUnavailable) hands it to the next engine of the route', async () => {
  const busy = new FakeEngine({ name: 'busy', refuseWith: new EngineUnavailable('busy', 'answered 429 Throttling') });
  const spare = new FakeEngine({ name: 'spare', renderMs: 20 });
  const { store, worker } = setUp(busy, { engines: routed(busy, spare) });
  await worker.start();
  await submit(store, 't1');
  const task = await waitFor(() => store.get('t1'), (row) => row?.status === TaskStatus.Succeed);
  assert.equal(busy.starts.length, 1);
  assert.equal(spare.starts.length, 1);
  assert.equal(task?.engine, 'spare');
  assert.equal(task?.extra.engine, 'spare');
  await worker.stop(1000);
});

test('any other error of start ends the task: it may have been accepted, so it is never sent elsewhere', async () => {
  const rejecting = new FakeEngine({ name: 'rejecting', refuseWith: new ApiError(400, 'INVALID_REQUEST_BODY', 'prompt: refused upstream') });
  const spare = new FakeEngine({ name: 'spare' });
  const { store, worker } = setUp(rejecting, { engines: routed(rejecting, spare) });
  await worker.start();
  await submit(store, 't1');
  const task = await waitFor(() => store.get('t1'), (row) => row?.status === TaskStatus.Failed);
  assert.equal(task?.error?.reason, 'INVALID_REQUEST_BODY');
  assert.equal(spare.starts.length, 0);
  await worker.stop(1000);
});

test('when every engine refuses, the route is tried again after the waits, then the task fails with CREATE_TASK_FAILED', async () => {
  const first = new FakeEngine({ name: 'first', refuseWith: new EngineUnavailable('first', 'connection refused') });
  const second = new FakeEngine({ name: 'second', refuseWith: new EngineUnavailable('second', 'answered 503') });
  const { store, worker } = setUp(first, { engines: routed(first, second), startRetryDelaysMs: [10, 10] });
  await worker.start();
  await submit(store, 't1');
  const task = await waitFor(() => store.get('t1'), (row) => row?.status === TaskStatus.Failed);
  assert.equal(task?.error?.reason, 'CREATE_TASK_FAILED');
  assert.match(task!.error!.message, /^no engine accepted the task: first: connection refused; second: answered 503; first: /);
  assert.deepEqual([first.starts.length, second.starts.length], [3, 3]);
  await worker.stop(1000);
});

test('a cloud task handed back at shutdown keeps running there, and the next worker resumes it without a second start', async () => {
  const cloud = new FakeEngine({ name: 'cloud', renderMs: 1500, survivesRestart: true });
  const { store, worker, options } = setUp(cloud);
  await worker.start();
  await submit(store, 't1');
  await waitFor(() => store.get('t1'), (row) => row?.operation !== null);
  await worker.stop(50);
  assert.equal((await store.get('t1'))?.status, TaskStatus.Queued);
  assert.deepEqual(cloud.cancelled, [], 'not cancelled: it is billed once and resumed');

  const next = new Worker(options);
  await next.start();
  const task = await waitFor(() => store.get('t1'), (row) => row?.status === TaskStatus.Succeed);
  assert.equal(cloud.starts.length, 1);
  assert.equal(task?.attempts, 1, 'an orderly hand-back is not a failed attempt');
  await next.stop(1000);
});

test('a task saved on an engine that is no longer configured fails rather than being started elsewhere', async () => {
  const engine = new FakeEngine();
  const { store, worker } = setUp(engine);
  await submit(store, 't1');
  await store.leaseNext('old-process', 50, allModels);
  await store.claimEngine('t1', 'old-process', 'retired-cloud', 10, 'cluster');
  await store.saveOperation('t1', 'old-process', { id: 'x' }, Date.now() - 10_000);
  await sleep(100);
  await worker.start();
  const task = await waitFor(() => store.get('t1'), (row) => row?.status === TaskStatus.Failed);
  assert.match(task!.error!.message, /engine "retired-cloud", which is no longer configured/);
  assert.equal(engine.starts.length, 0);
  await worker.stop(1000);
});

test('one timer renews every lease: many long tasks outlive their lease length and each runs once', async () => {
  const engine = new FakeEngine({ renderMs: 2000 });
  const { store, worker } = setUp(engine, { leaseMs: 600 });
  await worker.start();
  const ids = Array.from({ length: 40 }, (_, index) => `t${index}`);
  for (const id of ids) await submit(store, id);
  worker.notify();
  for (const id of ids) {
    const task = await waitFor(() => store.get(id), (row) => row?.status === TaskStatus.Succeed);
    assert.equal(task?.attempts, 1, `${id} was taken over`);
  }
  assert.equal(engine.starts.length, ids.length);
  await worker.stop(1000);
});

/** A store whose named writes fail as SQLite does on a full disk, while `full` is true. */
function fullDiskStore(store: TaskStore, methods: (keyof TaskStore)[]) {
  const state = { full: true, refused: 0 };
  const diskFull = () => Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (methods.includes(property as keyof TaskStore)) {
        return async (...args: unknown[]) => {
          if (state.full) {
            state.refused++;
            throw diskFull();
          }
          return value.apply(target, args);
        };
      }
      return value.bind(target);
    },
  });
  return { proxy, state };
}

test('writes that fail on a full disk are retried: the process stays up and the task ends once space is back', async () => {
  const engine = new FakeEngine({ renderMs: 50 });
  const failing = new FakeEngine({ name: 'failing', failWith: new ApiError(500, 'TASK_FAILED', 'the render broke') });
  const { store, options } = setUp(engine);
  const { proxy, state } = fullDiskStore(store, ['succeed', 'fail', 'saveProgress']);
  const worker = new Worker({ ...options, store: proxy, engines: new EngineRegistry([engine, failing], engine.name, { 'wan2.7-i2v': ['failing'] }) });
  await worker.start();
  await submit(store, 'ok');
  await submit(store, 'bad', 'wan2.7-i2v');
  worker.notify();
  await waitFor(async () => state.refused, (refused) => refused >= 4);
  assert.equal((await store.get('ok'))?.status, TaskStatus.Processing, 'still leased while its end cannot be written');
  state.full = false;
  const ok = await waitFor(() => store.get('ok'), (row) => row?.status === TaskStatus.Succeed);
  const bad = await waitFor(() => store.get('bad'), (row) => row?.status === TaskStatus.Failed);
  assert.equal(ok?.attempts, 1);
  assert.equal(bad?.error?.message, 'the render broke');
  assert.equal(engine.starts.length, 1, 'the finished work was not done again');
  await worker.stop(1000);
});

test('while the disk is full no task is taken, a task failing meanwhile is handed back, and all run once it recovers', async () => {
  const engine = new FakeEngine({ renderMs: 300, failWith: new ApiError(500, 'TASK_FAILED', 'No space left on device') });
  const disk = { problem: (): string | undefined => undefined, reportFailure: () => undefined, reserve: () => () => undefined };
  const { store, worker, options } = setUp(engine, { disk });
  await worker.start();
  await submit(store, 'running');
  worker.notify();
  await waitFor(() => store.get('running'), (row) => row?.operation !== null);
  disk.problem = () => 'the data directory has 1 MB free';
  await submit(store, 'waiting');
  worker.notify();
  const handedBack = await waitFor(() => store.get('running'), (row) => row?.status === TaskStatus.Queued);
  assert.equal(handedBack?.attempts, 0, 'the disk, not the task, failed: no attempt is counted');
  await sleep(200);
  assert.equal((await store.get('waiting'))?.status, TaskStatus.Queued, 'nothing is started on a full disk');
  await worker.stop(100);

  const healthy = new FakeEngine({ renderMs: 10 });
  const next = new Worker({ ...options, engines: new EngineRegistry([healthy], healthy.name), disk: { ...disk, problem: () => undefined } });
  await next.start();
  for (const id of ['running', 'waiting']) await waitFor(() => store.get(id), (row) => row?.status === TaskStatus.Succeed);
  await next.stop(1000);
});

test('a cancelled task stops its engine at once, local or cloud, and is never completed', async () => {
  for (const survivesRestart of [false, true]) {
    const engine = new FakeEngine({ renderMs: 5000, survivesRestart });
    const { store, worker, options } = setUp(engine);
    await worker.start();
    await submit(store, 't1');
    await waitFor(() => store.get('t1'), (row) => row?.operation !== null);
    const cancelledAt = Date.now();
    const outcome = await store.cancel('t1', 'k', { code: 500, reason: 'TASK_CANCELLED', message: 'cancelled', metadata: {} }, Date.now());
    assert.equal(outcome?.cancelled, true);
    await waitFor(async () => engine.cancelled.length, (count) => count === 1, 1000);
    assert.ok(Date.now() - cancelledAt < 1000, 'stopped within a second');
    await waitFor(async () => worker.busy, (busy) => busy === 0);
    const task = await store.get('t1');
    assert.equal(task?.status, TaskStatus.Failed);
    assert.equal(task?.error?.reason, 'TASK_CANCELLED');
    assert.deepEqual(readdirSync(options.workRoot), []);
    await worker.stop(1000);
  }
});

test("a shared engine's capacity holds across processes: two workers never run more than it together", async () => {
  const gpu = new FakeEngine({ name: 'gpu', renderMs: 300, capacity: 2, survivesRestart: true });
  const first = setUp(gpu);
  const second = new Worker({ ...first.options });
  await first.worker.start();
  await second.start();
  const ids = Array.from({ length: 8 }, (_, index) => `t${index}`);
  for (const id of ids) await submit(first.store, id);
  first.worker.notify();
  second.notify();
  for (const id of ids) await waitFor(() => first.store.get(id), (row) => row?.status === TaskStatus.Succeed);
  assert.equal(gpu.starts.length, ids.length);
  assert.ok(gpu.mostAtOnce <= 2, `${gpu.mostAtOnce} ran at once`);
  await first.worker.stop(1000);
  await second.stop(1000);
});

test('a full engine spills over to the next engine of the route, which is never overfilled either', async () => {
  const gpu = new FakeEngine({ name: 'gpu', renderMs: 400, capacity: 1, survivesRestart: true });
  const spare = new FakeEngine({ name: 'spare', renderMs: 400, capacity: 1, survivesRestart: true });
  const { store, worker } = setUp(gpu, { engines: routed(gpu, spare) });
  await worker.start();
  for (const id of ['a', 'b', 'c']) await submit(store, id);
  worker.notify();
  await sleep(150);
  assert.equal(worker.busy, 2, 'one on each engine; the third waits in the queue');
  assert.equal((await store.get('c'))?.status, TaskStatus.Queued);
  for (const id of ['a', 'b', 'c']) await waitFor(() => store.get(id), (row) => row?.status === TaskStatus.Succeed);
  assert.deepEqual([gpu.mostAtOnce, spare.mostAtOnce], [1, 1]);
  await worker.stop(1000);
});

test('resuming a task an engine already accepted does not fetch its media again', async () => {
  const cloud = new FakeEngine({ name: 'cloud', renderMs: 300, survivesRestart: true });
  let fetched = 0;
  const { store, worker, options } = setUp(cloud, { media: { fetchAll: async () => (fetched++, {}) } });
  await worker.start();
  await submit(store, 't1');
  await waitFor(() => store.get('t1'), (row) => row?.operation !== null);
  await worker.stop(0);
  assert.equal(fetched, 1);
  const next = new Worker(options);
  await next.start();
  await waitFor(() => store.get('t1'), (row) => row?.status === TaskStatus.Succeed);
  assert.equal(fetched, 1, 'the inputs were checked once, before the engine accepted the task');
  assert.equal(cloud.starts.length, 1);
  await next.stop(1000);
});
