import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiErrorBody } from '../../src/spec/api-error.js';
import type { TaskEvent } from '../../src/spec/task-events.js';
import type { Store } from '../../src/spec/store.js';
import type { NewTask, TaskSnapshot } from '../../src/spec/task-store.js';
import { TaskStatus } from '../../src/spec/task-status.js';
import type { TaskUsage } from '../../src/spec/usage.js';
import type { ModelId } from '../../src/models/model.js';
import { models } from '../../src/models/registry.js';
import { startOfUtcDay, startOfUtcMonth } from '../../src/store/utc-periods.js';
import { keyTotals } from './key-totals.js';

/**
 * Opens a fresh, empty store, and a second one on the same database (another process). Both
 * are closed by the suite.
 */
export type StoreFactory = () => Promise<{ store: Store; another: () => Promise<Store> }>;

const allModels = models.map((model) => model.id);
/** Long enough that no lease runs out in a test that does not wait for it. */
const lease = 60_000;
const error: ApiErrorBody = { code: 500, reason: 'TASK_FAILED', message: 'it broke', metadata: {} };
let sequence = 0;
/** Creation times strictly rising, near now (quotas count from the start of today). */
const baseTime = Date.now();

/** Ids ordered as their creation, like the UUIDv7 the server makes. */
function newTask(overrides: Partial<NewTask> = {}): NewTask {
  sequence++;
  return {
    id: `0190-${String(sequence).padStart(8, '0')}`,
    keyId: 'key-1',
    model: 'wan2.7-t2v',
    request: { prompt: `task ${sequence}` },
    seed: 7,
    webhookUrl: null,
    createdAt: baseTime + sequence,
    billableSeconds: 5,
    ...overrides,
  };
}

function usage(seconds: number, cost: number, model: ModelId = 'wan2.7-t2v'): TaskUsage {
  return { model, engine: 'preview', billedSeconds: seconds, outputSeconds: seconds, inputSeconds: 0, resolution: '720P', audio: true, listPrice: cost, cost, currency: 'USD' };
}

/**
 * The snapshot of `id` once it passes `check`: a change made through another process's store is
 * seen once it is announced, a few milliseconds later (and at the latest after the store's
 * recheck time, when the announcement is lost).
 */
async function snapshotOnceSeen(store: Store, id: string, check: (snapshot: TaskSnapshot | undefined) => boolean): Promise<TaskSnapshot | undefined> {
  const deadline = Date.now() + 2000;
  for (;;) {
    const snapshot = await store.tasks.getSnapshot(id);
    if (check(snapshot) || Date.now() > deadline) return snapshot;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function created(store: Store, task: NewTask): Promise<string> {
  const outcome = await store.tasks.insert(task);
  assert.equal(outcome.outcome, 'created');
  return task.id;
}

/**
 * Every rule of the Store contract (src/spec/store.ts and the files it names), run against one
 * backend. Each backend's test file calls this with its factory; a new backend passes it before
 * the server may use it.
 */
export function storeConformance(name: string, open: StoreFactory, skip?: string): void {
  describe(`store conformance: ${name}`, { skip }, () => {
    const withStore = (title: string, body: (store: Store, another: () => Promise<Store>) => Promise<void>) =>
      test(title, async () => {
        const { store, another } = await open();
        const others: Store[] = [];
        try {
          await body(store, async () => {
            const other = await another();
            others.push(other);
            return other;
          });
        } finally {
          for (const other of others) await other.close();
          await store.close();
        }
      });

    withStore('a task is stored whole, read back, and its version rises with every visible change', async (store) => {
      const task = newTask({ request: { prompt: 'p', duration: 5 }, webhookUrl: 'https://example.com/hook' });
      await created(store, task);
      const row = await store.tasks.get(task.id);
      assert.equal(row?.status, TaskStatus.Queued);
      assert.deepEqual(row?.request, { prompt: 'p', duration: 5 });
      assert.equal(row?.seed, 7);
      assert.equal(row?.attempts, 0);
      assert.equal(row?.webhookUrl, 'https://example.com/hook');
      assert.equal(row?.usage, null);
      assert.equal(row?.resultsExpiredAt, null);
      const before = (await store.tasks.getSnapshot(task.id))!.version;
      await store.tasks.leaseNext('w1', lease, allModels);
      await store.tasks.saveProgress(task.id, 'w1', 30, 4);
      const after = await store.tasks.getSnapshot(task.id);
      assert.ok(after!.version > before, 'the version rose');
      assert.equal(after?.progressPercent, 30);
      assert.equal(await store.tasks.get('missing'), undefined);
      assert.equal(await store.tasks.getSnapshot('missing'), undefined);
    });

    withStore('an idempotency key answers its first task for the same body, is refused for another, and expires', async (store) => {
      const first = newTask();
      const claim = { key: 'abc', bodyHash: 'h1', expiresAt: Date.now() + 60_000 };
      assert.deepEqual(await store.tasks.insert(first, { idempotency: claim }), { outcome: 'created', id: first.id });
      assert.deepEqual(await store.tasks.insert(newTask(), { idempotency: claim }), { outcome: 'repeated', id: first.id });
      assert.deepEqual(await store.tasks.insert(newTask(), { idempotency: { ...claim, bodyHash: 'h2' } }), { outcome: 'conflict', id: first.id });
      const otherKey = newTask({ keyId: 'key-2' });
      assert.equal((await store.tasks.insert(otherKey, { idempotency: claim })).outcome, 'created', 'per API key');
      const expired = { key: 'old', bodyHash: 'h', expiresAt: 1 };
      await store.tasks.insert(newTask(), { idempotency: expired });
      assert.equal((await store.tasks.insert(newTask(), { idempotency: { ...expired, expiresAt: Date.now() + 60_000 } })).outcome, 'created');
    });

    withStore('concurrent requests with one idempotency key make one task', async (store, another) => {
      const other = await another();
      const claim = { key: 'race', bodyHash: 'h', expiresAt: Date.now() + 60_000 };
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, (_, index) => (index % 2 ? other : store).tasks.insert(newTask(), { idempotency: claim })),
      );
      const ids = new Set(outcomes.map((outcome) => (outcome.outcome === 'refused' ? undefined : outcome.id)));
      assert.equal(ids.size, 1, JSON.stringify(outcomes));
      assert.equal(outcomes.filter((outcome) => outcome.outcome === 'created').length, 1);
      assert.equal((await store.tasks.list('key-1', { limit: 100, order: 'newest' })).length, 1);
    });

    withStore('admission: tasks in flight, queued tasks and seconds per day are held in the write, also under concurrency', async (store, another) => {
      const other = await another();
      const admission = { maxInFlight: 3 };
      const outcomes = await Promise.all(Array.from({ length: 10 }, (_, index) => (index % 2 ? other : store).tasks.insert(newTask(), { admission })));
      assert.equal(outcomes.filter((outcome) => outcome.outcome === 'created').length, 3);
      const refused = outcomes.find((outcome) => outcome.outcome === 'refused');
      assert.deepEqual(refused, { outcome: 'refused', limit: 'maxInFlight', current: 3, limitValue: 3 });
      const running = await store.tasks.leaseNext('w1', lease, allModels);
      assert.equal((await store.tasks.insert(newTask(), { admission: { maxQueued: 2 } })).outcome, 'refused', 'two are still queued');
      await store.tasks.fail(running!.id, 'w1', { error, extra: {}, usage: null }, Date.now());
      assert.equal((await store.tasks.insert(newTask(), { admission })).outcome, 'created', 'an ended task is no longer in flight');
      const day = newTask({ keyId: 'quota', billableSeconds: 6 });
      assert.equal((await store.tasks.insert(day, { admission: { maxSecondsPerDay: 10 } })).outcome, 'created');
      assert.deepEqual(await store.tasks.insert(newTask({ keyId: 'quota', billableSeconds: 5 }), { admission: { maxSecondsPerDay: 10 } }), {
        outcome: 'refused',
        limit: 'maxSecondsPerDay',
        current: 6,
        limitValue: 10,
      });
      assert.equal((await store.tasks.insert(newTask({ keyId: 'quota', billableSeconds: 4 }), { admission: { maxSecondsPerMonth: 10 } })).outcome, 'created');
    });

    withStore('admission: the cap on queued tasks counts every key’s, and follows tasks that start, end, come back or go', async (store, another) => {
      const other = await another();
      const cap = { maxQueuedTotal: 3 };
      const ids: string[] = [];
      for (const [index, keyId] of ['a', 'b', 'c'].entries()) {
        const outcome = await (index % 2 ? other : store).tasks.insert(newTask({ keyId }), { admission: cap });
        assert.equal(outcome.outcome, 'created');
        ids.push(outcome.id);
      }
      assert.deepEqual(await other.tasks.insert(newTask({ keyId: 'd' }), { admission: cap }), {
        outcome: 'refused',
        limit: 'maxQueuedTotal',
        current: 3,
        limitValue: 3,
      });
      assert.equal((await store.tasks.insert(newTask({ keyId: 'd' }), { admission: { ...cap, maxInFlight: 5 } })).outcome, 'refused', 'with key limits too');
      assert.equal((await store.tasks.insert(newTask({ keyId: 'd' }), { admission: { maxQueuedTotal: 4 } })).outcome, 'created', 'a higher cap');
      const running = await store.tasks.leaseNext('w1', lease, allModels);
      assert.equal((await other.tasks.insert(newTask({ keyId: 'd' }), { admission: { maxQueuedTotal: 4 } })).outcome, 'created', 'a started task leaves the queue');
      assert.equal((await other.tasks.insert(newTask({ keyId: 'd' }), { admission: { maxQueuedTotal: 4 } })).outcome, 'refused');
      assert.equal(await store.tasks.release(running!.id, 'w1'), true);
      assert.deepEqual(await store.tasks.insert(newTask({ keyId: 'd' }), { admission: { maxQueuedTotal: 5 } }), {
        outcome: 'refused',
        limit: 'maxQueuedTotal',
        current: 5,
        limitValue: 5,
      }, 'a task handed back is queued again');
      await store.tasks.cancel(ids[1], 'b', error, Date.now());
      assert.equal((await store.tasks.delete(ids[1], 'b'))?.deleted, true);
      assert.equal((await store.tasks.insert(newTask({ keyId: 'e' }), { admission: { maxQueuedTotal: 5 } })).outcome, 'created', 'a cancelled task left it');
      const finished = await store.tasks.insert(newTask({ keyId: 'e', webhookUrl: 'https://example.com/hook' }), { admission: cap, finishedAs: TaskStatus.Succeed });
      assert.equal(finished.outcome, 'created', 'a test-mode task never queues, so the cap does not hold it');
    });

    withStore('a finished task counts the seconds it billed against quotas, a failed one none', async (store) => {
      const done = newTask({ keyId: 'q', billableSeconds: 10 });
      const failed = newTask({ keyId: 'q', billableSeconds: 10 });
      await created(store, done);
      await created(store, failed);
      await store.tasks.leaseNext('w', lease, allModels);
      await store.tasks.leaseNext('w', lease, allModels);
      await store.tasks.succeed(done.id, 'w', { results: [], extra: {}, usage: usage(3, 0.3) }, Date.now());
      await store.tasks.fail(failed.id, 'w', { error, extra: {}, usage: null }, Date.now());
      const admission = { maxSecondsPerDay: 8 };
      assert.equal((await store.tasks.insert(newTask({ keyId: 'q', billableSeconds: 5 }), { admission })).outcome, 'created', '3 + 5 ≤ 8');
      assert.equal((await store.tasks.insert(newTask({ keyId: 'q', billableSeconds: 1 }), { admission })).outcome, 'refused');
    });

    withStore('a key’s totals for admission follow its tasks through start, hand-back, end, cancel, delete and retention, by UTC day', async (store, another) => {
      const other = await another();
      const keyId = 'totals';
      const today = startOfUtcDay(baseTime);
      const yesterday = today - 1;
      // What yesterday's seconds add to this month: nothing when today is the 1st.
      const sameMonth = startOfUtcMonth(yesterday) === startOfUtcMonth(today) ? 1 : 0;
      const expect = async (inFlight: number, queued: number, secondsToday: number, secondsYesterday: number, step: string) => {
        for (const from of [store, other]) {
          const secondsThisMonth = secondsToday + sameMonth * secondsYesterday;
          assert.deepEqual(await keyTotals(from, keyId, baseTime), { inFlight, queued, secondsToday, secondsThisMonth }, step);
          assert.equal((await keyTotals(from, keyId, yesterday)).secondsToday, secondsYesterday, `seconds yesterday, ${step}`);
        }
      };
      // Created at the last millisecond of yesterday: the oldest queued, so the first leased.
      const late = newTask({ keyId, createdAt: yesterday, billableSeconds: 4 });
      await created(store, late);
      const [first, second] = [newTask({ keyId, billableSeconds: 2.5 }), newTask({ keyId, billableSeconds: 2.5 })];
      await created(other, first);
      await created(store, second);
      await created(other, newTask({ keyId, billableSeconds: 5 }));
      await expect(4, 4, 10, 4, 'four queued');
      assert.equal((await store.tasks.leaseNext('w', lease, allModels))?.id, late.id);
      await expect(4, 3, 10, 4, 'one started');
      assert.equal(await store.tasks.release(late.id, 'w'), true);
      await expect(4, 4, 10, 4, 'handed back');
      assert.equal((await other.tasks.leaseNext('w', lease, allModels))?.id, late.id);
      // It ends yesterday too: retention (by end time) removes it below.
      assert.equal(await other.tasks.succeed(late.id, 'w', { results: [], extra: {}, usage: usage(2, 0.2) }, yesterday), true);
      await expect(3, 3, 10, 2, 'ended: what it billed counts');
      assert.equal((await store.tasks.leaseNext('w', lease, allModels))?.id, first.id);
      assert.equal(await store.tasks.fail(first.id, 'w', { error, extra: {}, usage: null }, Date.now()), true);
      await expect(2, 2, 7.5, 2, 'failed: it counts nothing');
      assert.equal((await other.tasks.cancel(second.id, keyId, error, Date.now()))?.cancelled, true);
      await expect(1, 1, 5, 2, 'cancelled');
      assert.equal((await store.tasks.delete(second.id, keyId))?.deleted, true);
      await expect(1, 1, 5, 2, 'a deleted failure took nothing back');
      assert.equal((await store.tasks.insert(newTask({ keyId }), { finishedAs: TaskStatus.Succeed })).outcome, 'created');
      await expect(1, 1, 5, 2, 'a test-mode task never counts');
      assert.equal((await other.retention.deleteTasksBefore(today, 10)).deleted, 1);
      await expect(1, 1, 5, 2, 'retention removed yesterday’s task: what it billed still counts');
      const last = await other.tasks.leaseNext('w', lease, allModels);
      assert.ok(last);
      assert.equal(await other.tasks.succeed(last.id, 'w', { results: [], extra: {}, usage: usage(3, 0.3) }, Date.now()), true);
      await expect(0, 0, 3, 2, 'the last ended, billing 3 s of the 5 s it would have');
      assert.equal((await store.tasks.delete(last.id, keyId))?.deleted, true);
      await expect(0, 0, 3, 2, 'deleting it gives no quota back');
    });

    withStore('a test-mode task is stored ended, with its webhook delivery due at once', async (store) => {
      const events: TaskEvent[] = [];
      store.events.subscribe((event) => events.push(event));
      const task = newTask({ webhookUrl: 'https://example.com/hook' });
      assert.equal((await store.tasks.insert(task, { finishedAs: TaskStatus.Failed })).outcome, 'created');
      const row = await store.tasks.get(task.id);
      assert.equal(row?.status, TaskStatus.Failed);
      assert.equal(row?.extra.test_mode, true);
      assert.equal(await store.tasks.leaseNext('w', lease, allModels), undefined, 'never run');
      const due = await store.webhooks.claimDueDeliveries('d1', lease, 10);
      assert.deepEqual(due.map((delivery) => [delivery.taskId, delivery.url, delivery.eventType]), [[task.id, 'https://example.com/hook', 'ASYNC_TASK_RESULT']]);
      assert.ok(events.some((event) => event.type === 'delivery'));
    });

    withStore('lists a key’s tasks newest first, page by page, filtered by status and model', async (store) => {
      const ids: string[] = [];
      for (let index = 0; index < 5; index++) ids.push(await created(store, newTask({ model: index % 2 ? 'wan2.7-i2v' : 'wan2.7-t2v' })));
      await created(store, newTask({ keyId: 'someone-else' }));
      const first = await store.tasks.list('key-1', { limit: 2, order: 'newest' });
      assert.deepEqual(first.map((task) => task.id), [ids[4], ids[3]]);
      const second = await store.tasks.list('key-1', { limit: 2, order: 'newest', after: ids[3] });
      assert.deepEqual(second.map((task) => task.id), [ids[2], ids[1]]);
      assert.deepEqual((await store.tasks.list('key-1', { limit: 10, order: 'oldest', after: ids[2] })).map((task) => task.id), [ids[3], ids[4]]);
      assert.deepEqual((await store.tasks.list('key-1', { limit: 10, order: 'newest', model: 'wan2.7-i2v' })).map((task) => task.id), [ids[3], ids[1]]);
      await store.tasks.leaseNext('w', lease, allModels);
      assert.deepEqual((await store.tasks.list('key-1', { limit: 10, order: 'newest', status: TaskStatus.Processing })).map((task) => task.id), [ids[0]]);
      assert.equal(first[0].keyId, 'key-1');
    });

    withStore('leasing takes the oldest queued task of the named models, once', async (store) => {
      const old = await created(store, newTask({ createdAt: 10 }));
      const young = await created(store, newTask({ createdAt: 20 }));
      const i2v = await created(store, newTask({ createdAt: 5, model: 'wan2.7-i2v' }));
      const first = await store.tasks.leaseNext('w1', lease, ['wan2.7-t2v']);
      assert.equal(first?.id, old);
      assert.equal(first?.status, TaskStatus.Processing);
      assert.equal(first?.attempts, 1);
      assert.equal(first?.leaseOwner, 'w1');
      assert.equal((await store.tasks.leaseNext('w2', lease, ['wan2.7-t2v']))?.id, young);
      assert.equal(await store.tasks.leaseNext('w3', lease, ['wan2.7-t2v', 'wan2.7-r2v']), undefined);
      assert.equal((await store.tasks.leaseNext('w3', lease, allModels))?.id, i2v);
    });

    withStore('an expired lease is taken over by another worker, never by its own; the old owner can no longer write', async (store) => {
      const id = await created(store, newTask());
      await store.tasks.leaseNext('dead', 50, allModels);
      assert.equal(await store.tasks.leaseNext('w2', lease, allModels), undefined, 'not before expiry');
      await sleep(120);
      assert.equal(await store.tasks.leaseNext('dead', lease, allModels), undefined, 'its own owner does not take it over');
      const taken = await store.tasks.leaseNext('w2', lease, []);
      assert.equal(taken?.id, id, 'whatever models are named: it keeps its place on its engine');
      assert.equal(taken?.attempts, 2);
      assert.deepEqual(await store.tasks.renewLeases('dead', lease), []);
      assert.equal(await store.tasks.saveProgress(id, 'dead', 50, 3), false);
      assert.equal(await store.tasks.succeed(id, 'dead', { results: [], extra: {}, usage: null }, Date.now()), false);
      const results = [{ key: `videos/${id}/0.mp4`, type: 'mp4' as const }];
      assert.equal(await store.tasks.succeed(id, 'w2', { results, extra: { engine: 'x' }, usage: usage(5, 0.5) }, 5), true);
      assert.equal(await store.tasks.succeed(id, 'w2', { results: [], extra: {}, usage: null }, 6), false, 'a task completes only once');
      const done = await store.tasks.get(id);
      assert.equal(done?.status, TaskStatus.Succeed);
      assert.equal(done?.progressPercent, 100);
      assert.deepEqual(done?.results, results);
      assert.deepEqual(done?.usage, usage(5, 0.5));
      assert.equal(done?.completedAt, 5);
      assert.equal(done?.leaseOwner, null);
    });

    withStore('one renewal extends every lease of its owner, and only those', async (store) => {
      const ids = [await created(store, newTask()), await created(store, newTask()), await created(store, newTask())];
      await store.tasks.leaseNext('w1', 200, allModels);
      await store.tasks.leaseNext('w1', 200, allModels);
      await store.tasks.leaseNext('w2', 200, allModels);
      await sleep(100);
      assert.deepEqual((await store.tasks.renewLeases('w1', lease)).sort(), [ids[0], ids[1]]);
      await sleep(200);
      assert.equal((await store.tasks.leaseNext('w3', lease, allModels))?.id, ids[2], "w2's lease ran out");
      assert.equal(await store.tasks.leaseNext('w3', lease, allModels), undefined, "w1's were renewed");
    });

    withStore('engine places: at most capacity across owners for a shared engine, per owner for a local one', async (store) => {
      const ids = [];
      for (let index = 0; index < 4; index++) ids.push(await created(store, newTask()));
      for (const [index, owner] of ['a', 'a', 'b', 'b'].entries()) assert.equal((await store.tasks.leaseNext(owner, lease, allModels))?.id, ids[index]);
      assert.equal(await store.tasks.claimEngine(ids[0], 'a', 'gpu', 2, 'cluster'), true);
      assert.equal(await store.tasks.claimEngine(ids[2], 'b', 'gpu', 2, 'cluster'), true);
      assert.equal(await store.tasks.claimEngine(ids[3], 'b', 'gpu', 2, 'cluster'), false, 'full across owners');
      assert.equal(await store.tasks.claimEngine(ids[3], 'a', 'gpu', 2, 'cluster'), false, 'only the lease owner claims');
      assert.equal(await store.tasks.claimEngine(ids[1], 'a', 'local', 1, 'process'), true);
      assert.equal(await store.tasks.claimEngine(ids[3], 'b', 'local', 1, 'process'), true, "another owner's local places are its own");
      assert.deepEqual(await store.tasks.engineLoad(), { gpu: 2, local: 2 });
      assert.equal(await store.tasks.claimEngine(ids[0], 'a', 'gpu', 2, 'cluster'), true, 'a task re-claiming its own place fits');
      assert.equal(await store.tasks.claimEngine(ids[2], 'b', null, 0, 'cluster'), true, 'a place given up');
      assert.equal(await store.tasks.claimEngine(ids[3], 'b', 'gpu', 2, 'cluster'), true);
      await store.tasks.fail(ids[0], 'a', { error, extra: {}, usage: null }, Date.now());
      assert.deepEqual(await store.tasks.engineLoad(), { gpu: 1, local: 1 }, 'an ended task holds no place');
    });

    withStore('queue stats count the queued tasks of every process, up to the cap, and date the oldest', async (store, another) => {
      assert.deepEqual(await store.tasks.queueStats(100), { queued: 0, oldestCreatedAt: null }, 'an empty queue');
      const tasks = [newTask(), newTask(), newTask(), newTask()];
      for (const task of tasks) await created(store, task);
      const other = await another();
      await created(other, newTask({ keyId: 'key-2' }));
      assert.deepEqual(await other.tasks.queueStats(100), { queued: 5, oldestCreatedAt: tasks[0].createdAt });
      assert.deepEqual(await store.tasks.queueStats(3), { queued: 3, oldestCreatedAt: tasks[0].createdAt }, 'the count stops at the cap');
      await store.tasks.leaseNext('w1', lease, allModels);
      await store.tasks.cancel(tasks[1].id, 'key-1', error, Date.now());
      await store.tasks.insert(newTask(), { finishedAs: TaskStatus.Succeed });
      assert.deepEqual(
        await store.tasks.queueStats(100),
        { queued: 3, oldestCreatedAt: tasks[2].createdAt },
        'running, cancelled and ended tasks do not wait',
      );
    });

    withStore('operation, start time and progress are recorded under the lease', async (store) => {
      const id = await created(store, newTask());
      await store.tasks.leaseNext('w1', lease, allModels);
      await store.tasks.claimEngine(id, 'w1', 'preview', 2, 'process');
      assert.equal(await store.tasks.saveOperation(id, 'w1', { render: 'r1' }, 150), true);
      assert.equal(await store.tasks.saveOperation(id, 'w1', { render: 'r2' }, 170), true);
      assert.equal(await store.tasks.saveOperation(id, 'w2', { render: 'r3' }, 170), false);
      assert.equal(await store.tasks.saveProgress(id, 'w1', 40, 3), true);
      const task = await store.tasks.get(id);
      assert.deepEqual(task?.operation, { render: 'r2' });
      assert.equal(task?.engine, 'preview');
      assert.equal(task?.startedAt, 150, 'the first start is kept');
      assert.equal(task?.progressPercent, 40);
      assert.equal(task?.etaSeconds, 3);
      assert.equal(await store.tasks.fail(id, 'w1', { error, extra: { engine: 'preview' }, usage: null }, 200), true);
      const failed = await store.tasks.get(id);
      assert.equal(failed?.status, TaskStatus.Failed);
      assert.deepEqual(failed?.error, error);
      assert.deepEqual(failed?.extra, { engine: 'preview' });
    });

    withStore('a released task goes back to the queue with its operation, and the hand-back costs no attempt', async (store) => {
      const id = await created(store, newTask());
      await store.tasks.leaseNext('w1', lease, allModels);
      await store.tasks.saveOperation(id, 'w1', { render: 'r1' }, 150);
      assert.equal(await store.tasks.release(id, 'w1'), true);
      assert.equal((await store.tasks.get(id))?.attempts, 0);
      for (let restart = 0; restart < 4; restart++) {
        const task = await store.tasks.leaseNext(`w${restart + 2}`, lease, allModels);
        assert.equal(task?.attempts, 1);
        assert.deepEqual(task?.operation, { render: 'r1' });
        assert.equal(await store.tasks.release(id, `w${restart + 2}`), true);
      }
      assert.equal(await store.tasks.release(id, 'w1'), false, 'only the lease owner hands back');
    });

    withStore('the end of a task with a webhook stores its delivery in the same write; deliveries are leased and recorded', async (store, another) => {
      const id = await created(store, newTask({ webhookUrl: 'https://example.com/hook' }));
      const plain = await created(store, newTask());
      await store.tasks.leaseNext('w', lease, allModels);
      await store.tasks.leaseNext('w', lease, allModels);
      assert.equal(await store.webhooks.nextDeliveryDue(), undefined);
      await store.tasks.succeed(id, 'w', { results: [], extra: {}, usage: null }, Date.now());
      await store.tasks.succeed(plain, 'w', { results: [], extra: {}, usage: null }, Date.now());
      assert.ok((await store.webhooks.nextDeliveryDue())! <= Date.now());
      const other = await another();
      const [delivery] = await store.webhooks.claimDueDeliveries('d1', lease, 10);
      assert.equal(delivery.taskId, id);
      assert.deepEqual(await other.webhooks.claimDueDeliveries('d2', lease, 10), [], 'held by d1');
      const at = Date.now();
      assert.equal(await store.webhooks.recordDelivery(delivery.id, 'd2', { state: 'delivered', statusCode: 200, at }), false);
      assert.equal(await store.webhooks.recordDelivery(delivery.id, 'd1', { state: 'retry', statusCode: 503, error: 'answered 503', at, nextAttemptAt: at + 60_000 }), true);
      assert.deepEqual(await store.webhooks.claimDueDeliveries('d2', lease, 10), [], 'not due yet');
      let [state] = await store.webhooks.deliveriesOf(id, 'key-1');
      assert.equal(state.state, 'pending');
      assert.equal(state.attempts, 1);
      assert.equal(state.lastStatusCode, 503);
      assert.equal(state.nextAttemptAt, at + 60_000);
      assert.deepEqual(await store.webhooks.deliveriesOf(id, 'key-2'), [], "another key's task shows nothing");
      await store.webhooks.recordDelivery(delivery.id, 'd1', { state: 'delivered', statusCode: 204, at }).then((ok) => assert.equal(ok, false, 'its lease ended with the record'));
    });

    withStore('a delivery whose lease ran out is taken by another deliverer; given up deliveries are never due', async (store) => {
      const id = await created(store, newTask({ webhookUrl: 'https://example.com/hook' }));
      await store.tasks.leaseNext('w', lease, allModels);
      await store.tasks.fail(id, 'w', { error, extra: {}, usage: null }, Date.now());
      const [first] = await store.webhooks.claimDueDeliveries('d1', 50, 10);
      await sleep(120);
      const [again] = await store.webhooks.claimDueDeliveries('d2', lease, 10);
      assert.equal(again?.id, first.id);
      assert.equal(await store.webhooks.recordDelivery(first.id, 'd2', { state: 'given_up', statusCode: 410, error: 'answered 410', at: Date.now() }), true);
      assert.deepEqual(await store.webhooks.claimDueDeliveries('d3', lease, 10), []);
      assert.equal(await store.webhooks.nextDeliveryDue(), undefined);
      assert.equal((await store.webhooks.deliveriesOf(id, 'key-1'))[0].state, 'given_up');
    });

    withStore('cancel ends a queued or a running task of its key, drops the lease, and leaves an ended one alone', async (store) => {
      const events: TaskEvent[] = [];
      store.events.subscribe((event) => events.push(event));
      const running = await created(store, newTask({ webhookUrl: 'https://example.com/hook' }));
      const waiting = await created(store, newTask());
      assert.equal((await store.tasks.leaseNext('w', lease, allModels))?.id, running);
      const cancelled = { code: 500, reason: 'TASK_CANCELLED', message: 'cancelled', metadata: {} };
      assert.equal(await store.tasks.cancel(running, 'key-2', cancelled, 1), undefined, "another key's task is not found");
      const first = await store.tasks.cancel(waiting, 'key-1', cancelled, 1);
      assert.equal(first?.cancelled, true);
      assert.equal(first?.task.status, TaskStatus.Failed);
      assert.deepEqual(first?.task.error, cancelled);
      const second = await store.tasks.cancel(running, 'key-1', cancelled, 2);
      assert.equal(second?.cancelled, true);
      assert.equal(await store.tasks.saveProgress(running, 'w', 50, 1), false, "the worker's next write fails");
      assert.equal(await store.tasks.succeed(running, 'w', { results: [], extra: {}, usage: null }, 3), false, 'it never completes later');
      assert.ok(events.some((event) => event.type === 'cancelled' && event.taskId === running), 'the running one is announced to its worker');
      assert.ok(!events.some((event) => event.type === 'cancelled' && event.taskId === waiting), 'a queued one has no worker to tell');
      const again = await store.tasks.cancel(running, 'key-1', cancelled, 4);
      assert.equal(again?.cancelled, false);
      assert.equal(again?.task.completedAt, 2, 'unchanged');
      assert.equal((await store.webhooks.claimDueDeliveries('d', lease, 10)).length, 1, 'its webhook fires');
      assert.equal(await store.tasks.cancel('missing', 'key-1', cancelled, 1), undefined);
    });

    withStore('delete removes an ended task with its deliveries and answers its result keys; a task in flight stays', async (store) => {
      const id = await created(store, newTask({ webhookUrl: 'https://example.com/hook' }));
      const waiting = await created(store, newTask());
      await store.tasks.leaseNext('w', lease, [allModels[0]]);
      await store.tasks.succeed(id, 'w', { results: [{ key: `videos/${id}/0.mp4`, type: 'mp4' }], extra: {}, usage: null }, Date.now());
      assert.equal(await store.tasks.delete(id, 'key-2'), undefined);
      assert.deepEqual(await store.tasks.delete(waiting, 'key-1'), { deleted: false, resultKeys: [] });
      assert.deepEqual(await store.tasks.delete(id, 'key-1'), { deleted: true, resultKeys: [`videos/${id}/0.mp4`] });
      assert.equal(await store.tasks.get(id), undefined);
      assert.equal(await store.tasks.getSnapshot(id), undefined);
      assert.deepEqual(await store.webhooks.claimDueDeliveries('d', lease, 10), []);
    });

    withStore('events: queued on submission and hand-back, changed on visible changes, delivery when one is due', async (store) => {
      const events: TaskEvent[] = [];
      const stop = store.events.subscribe((event) => events.push(event));
      const id = await created(store, newTask({ model: 'wan2.7-r2v', webhookUrl: 'https://example.com/hook' }));
      await store.tasks.leaseNext('w', lease, allModels);
      await store.tasks.saveProgress(id, 'w', 10, 1);
      await store.tasks.release(id, 'w');
      await store.tasks.leaseNext('w', lease, allModels);
      await store.tasks.succeed(id, 'w', { results: [], extra: {}, usage: null }, Date.now());
      for (let waited = 0; !events.some((event) => event.type === 'delivery') && waited < 2000; waited += 20) await sleep(20);
      stop();
      assert.equal(events.filter((event) => event.type === 'queued' && event.model === 'wan2.7-r2v').length, 2);
      const changes = events.filter((event) => event.type === 'changed' && event.taskId === id);
      assert.ok(changes.length >= 4, JSON.stringify(events));
      const last = changes.at(-1);
      assert.equal(last?.type === 'changed' ? last.status : undefined, TaskStatus.Succeed);
      assert.ok(events.some((event) => event.type === 'delivery'));
    });

    withStore('a second process on the same store sees every change, and its snapshots follow them', async (store, another) => {
      const other = await another();
      const id = await created(store, newTask());
      assert.equal((await store.tasks.getSnapshot(id))?.status, TaskStatus.Queued);
      await other.tasks.leaseNext('w', lease, allModels);
      await other.tasks.saveProgress(id, 'w', 40, 9);
      const running = await snapshotOnceSeen(store, id, (snapshot) => snapshot?.progressPercent === 40);
      assert.equal(running?.status, TaskStatus.Processing);
      assert.equal(running?.progressPercent, 40);
      await other.tasks.succeed(id, 'w', { results: [{ key: `videos/${id}/0.mp4`, type: 'mp4' }], extra: {}, usage: null }, 7);
      const done = await snapshotOnceSeen(store, id, (snapshot) => snapshot?.status === TaskStatus.Succeed);
      assert.equal(done?.status, TaskStatus.Succeed);
      assert.deepEqual(done?.results, [{ key: `videos/${id}/0.mp4`, type: 'mp4' }]);
    });

    withStore('keys: found by hash until revoked, limits updated, one webhook secret each, requests counted per window', async (store, another) => {
      await store.keys.createKey({ id: 'k1', name: 'ci', prefix: 'wan_abcdefgh', hash: 'h1', createdAt: 1, limits: { maxInFlight: 2 } });
      await store.keys.createKey({ id: 'k2', name: 'dev', prefix: 'wan_zzzzzzzz', hash: 'h2', createdAt: 2, limits: {} });
      assert.deepEqual((await store.keys.findByHash('h1'))?.limits, { maxInFlight: 2 });
      assert.equal(await store.keys.countKeys(), 2);
      const updated = await store.keys.updateKeyLimits('wan_abcdefgh', { requestsPerMinute: 60, maxInFlight: null });
      assert.deepEqual(updated?.limits, { requestsPerMinute: 60 });
      assert.equal(await store.keys.updateKeyLimits('nobody', { maxQueued: 1 }), undefined);
      const secret = await store.keys.webhookSecret('k1');
      assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
      assert.equal(await store.keys.webhookSecret('k1'), secret, 'the same every time');
      assert.notEqual(await store.keys.webhookSecret('k2'), secret, 'each key its own');
      const other = await another();
      assert.equal(await other.keys.webhookSecret('k1'), secret, 'and in every process');
      assert.equal(await store.keys.countRequest('k1', 60_000), 1);
      assert.equal(await other.keys.countRequest('k1', 60_000), 2);
      assert.equal(await store.keys.countRequest('k1', 120_000), 1, 'a new window starts over');
      assert.equal(await store.keys.countRequest('k2', 60_000), 1);
      assert.equal(await other.keys.countRequest('k2', 60_000, 10), 11, 'a process may take several at once');
      assert.equal(await store.keys.countRequest('k2', 60_000), 12);
      assert.equal((await store.keys.revokeKey('wan_abcdefgh', 5))?.id, 'k1');
      assert.equal(await store.keys.findByHash('h1'), undefined);
      assert.equal(await store.keys.revokeKey('k1', 6), undefined, 'once');
      assert.equal((await store.keys.revokeKey('k2', 7))?.name, 'dev');
      assert.equal(await store.keys.countKeys(), 0);
      assert.deepEqual((await store.keys.listKeys()).map((key) => key.revokedAt), [5, 7]);
    });

    withStore('uploads are found by the hash of the URL they were answered with', async (store) => {
      const upload = { id: 'u1', keyId: 'k1', blobKey: 'uploads/u1/a.png', contentType: 'image/png', sizeBytes: 42, urlHash: 'abc', createdAt: 1, expiresAt: 2 };
      await store.uploads.recordUpload(upload);
      assert.deepEqual(await store.uploads.findUploadByUrlHash('abc'), upload);
      assert.equal(await store.uploads.findUploadByUrlHash('other'), undefined);
    });

    withStore('usage sums the recorded usage of a key’s ended tasks by model and by UTC day', async (store) => {
      const day1 = Date.UTC(2026, 10, 24, 23, 0);
      const day2 = Date.UTC(2026, 10, 25, 1, 0);
      const ends: [ModelId, number, TaskUsage | null][] = [
        ['wan2.7-t2v', day1, usage(5, 0.5)],
        ['wan2.7-t2v', day2, usage(10, 1.5)],
        ['wan2.7-i2v', day2, usage(4, 0.4, 'wan2.7-i2v')],
        ['wan2.7-i2v', day2, null],
      ];
      for (const [model, at, spent] of ends) {
        const id = await created(store, newTask({ model }));
        await store.tasks.leaseNext('w', lease, [model]);
        if (spent) await store.tasks.succeed(id, 'w', { results: [], extra: {}, usage: spent }, at);
        else await store.tasks.fail(id, 'w', { error, extra: {}, usage: null }, at);
      }
      await created(store, newTask({ keyId: 'other' }));
      const byModel = await store.usage.usage('key-1', { from: day1 - 1, to: day2 + 1, groupBy: 'model' });
      assert.deepEqual(byModel, [
        { group: 'wan2.7-i2v', tasks: 1, billedSeconds: 4, cost: 0.4, listPrice: 0.4 },
        { group: 'wan2.7-t2v', tasks: 2, billedSeconds: 15, cost: 2, listPrice: 2 },
      ]);
      const byDay = await store.usage.usage('key-1', { from: day1 - 1, to: day2 + 1, groupBy: 'day' });
      assert.deepEqual(byDay.map((row) => [row.group, row.tasks, row.billedSeconds]), [['2026-11-24', 1, 5], ['2026-11-25', 2, 14]]);
      assert.deepEqual(await store.usage.usage('key-1', { from: day2, to: day2 + 1, groupBy: 'model' }).then((rows) => rows.length), 2, 'from is inclusive');
      assert.deepEqual(await store.usage.usage('key-1', { from: 0, to: day1, groupBy: 'model' }), [], 'to is exclusive');
    });

    withStore('retention: results expire in batches, old uploads and old ended tasks go, bookkeeping is forgotten', async (store) => {
      const ids = [];
      for (let index = 0; index < 3; index++) {
        const id = await created(store, newTask({ createdAt: 1000 + index, webhookUrl: index === 0 ? 'https://example.com/hook' : null }));
        await store.tasks.leaseNext('w', lease, allModels);
        await store.tasks.succeed(id, 'w', { results: [{ key: `videos/${id}/0.mp4`, type: 'mp4' }], extra: {}, usage: null }, 2000 + index);
        ids.push(id);
      }
      const running = await created(store, newTask({ createdAt: 500 }));
      await store.tasks.leaseNext('w', lease, allModels);
      const batch = await store.retention.resultsToExpire(2002, 10);
      assert.deepEqual(batch, [ids[0], ids[1]].map((id) => ({ id, resultKeys: [`videos/${id}/0.mp4`] })));
      assert.deepEqual(await store.retention.resultsToExpire(2002, 1).then((rows) => rows.length), 1, 'bounded');
      await store.retention.markResultsExpired([ids[0]], 3000);
      assert.equal((await store.tasks.getSnapshot(ids[0]))?.resultsExpiredAt, 3000);
      assert.deepEqual((await store.retention.resultsToExpire(2002, 10)).map((row) => row.id), [ids[1]]);

      await store.uploads.recordUpload({ id: 'u1', keyId: 'k', blobKey: 'uploads/u1/a.png', contentType: 'image/png', sizeBytes: 1, urlHash: 'x1', createdAt: 10, expiresAt: 20 });
      await store.uploads.recordUpload({ id: 'u2', keyId: 'k', blobKey: 'uploads/u2/b.png', contentType: 'image/png', sizeBytes: 1, urlHash: 'x2', createdAt: 30, expiresAt: 40 });
      assert.deepEqual(await store.retention.uploadsToExpire(20, 10), [{ id: 'u1', blobKey: 'uploads/u1/a.png' }]);
      await store.retention.deleteUploadRecords(['u1']);
      assert.equal(await store.uploads.findUploadByUrlHash('x1'), undefined);

      // By end time: the tasks created at 1000 and 1001 ended at 2000 and 2001.
      const deleted = await store.retention.deleteTasksBefore(2002, 10);
      assert.deepEqual(deleted, { deleted: 2, resultKeys: [`videos/${ids[1]}/0.mp4`] }, 'expired results are not named twice');
      assert.equal(await store.tasks.get(ids[0]), undefined);
      assert.ok(await store.tasks.get(running), 'a task in flight is never deleted');
      assert.deepEqual(await store.webhooks.claimDueDeliveries('d', lease, 10), [], 'its deliveries went with it');

      await store.tasks.insert(newTask(), { idempotency: { key: 'k', bodyHash: 'h', expiresAt: 1 } });
      await store.keys.countRequest('key-1', 0);
      // A task of a day and month long gone leaves quota totals that admission never reads again.
      const now = Date.now();
      await store.tasks.insert({ ...newTask(), keyId: 'quota-key', createdAt: now - 70 * 24 * 3600 * 1000, billableSeconds: 5 });
      await store.tasks.insert({ ...newTask(), keyId: 'quota-key', createdAt: now, billableSeconds: 5 });
      const today = await keyTotals(store, 'quota-key', now);
      assert.ok((await store.retention.deleteExpiredBookkeeping(now, 100)) >= 4, 'the idempotency key, the count and the old day and month');
      assert.deepEqual(await keyTotals(store, 'quota-key', now), today, "today's and this month's totals stay");
    });

    withStore('a shared secret is made once and then read by every process', async (store, another) => {
      let made = 0;
      const create = () => `secret-${++made}`;
      assert.equal(await store.sharedSecret('url_signing', create), 'secret-1');
      assert.equal(await store.sharedSecret('url_signing', create), 'secret-1');
      assert.equal(await (await another()).sharedSecret('url_signing', create), 'secret-1');
      assert.equal(made, 1);
      await store.ping();
    });
  });
}
