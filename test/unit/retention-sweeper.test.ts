import assert from 'node:assert/strict';
import path from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { RetentionSweeper } from '../../src/tasks/retention-sweeper.js';
import { startOfUtcDay, startOfUtcMonth } from '../../src/store/utc-periods.js';
import { tempDir } from '../support/temp-dir.js';

const hour = 3600_000;
const day = 24 * hour;

async function storeWithHistory(now: number) {
  const store = new SqliteStore(path.join(tempDir(), 'wan.db'));
  after(() => store.close());
  const ids: string[] = [];
  // Five tasks that ended 40, 20, 10, 2 and 0.5 days ago; one still running.
  for (const [index, endedDaysAgo] of [40, 20, 10, 2, 0.5].entries()) {
    const id = `0190-${index}`;
    const at = now - endedDaysAgo * day;
    await store.tasks.insert({ id, keyId: 'k', model: 'wan2.7-t2v', request: { prompt: 'p' }, seed: 1, webhookUrl: null, createdAt: at - 1000, billableSeconds: 2 });
    await store.tasks.leaseNext('w', 60_000, ['wan2.7-t2v']);
    await store.tasks.succeed(id, 'w', { results: [{ key: `videos/${id}/0.mp4`, type: 'mp4' }], extra: {}, usage: null }, at);
    ids.push(id);
  }
  await store.tasks.insert({ id: '0190-9', keyId: 'k', model: 'wan2.7-t2v', request: { prompt: 'p' }, seed: 1, webhookUrl: null, createdAt: now - 90 * day, billableSeconds: 2 });
  await store.tasks.leaseNext('w', 60_000, ['wan2.7-t2v']);
  for (const [index, hoursAgo] of [48, 12, 1].entries()) {
    await store.uploads.recordUpload({ id: `u${index}`, keyId: 'k', blobKey: `uploads/u${index}/a.png`, contentType: 'image/png', sizeBytes: 1, urlHash: `h${index}`, createdAt: now - hoursAgo * hour, expiresAt: now });
  }
  return { store, ids };
}

test('a sweep removes results, uploads and task rows past their time in batches, and keeps the rest', async () => {
  const now = Date.now();
  const { store, ids } = await storeWithHistory(now);
  const deleted: string[] = [];
  const sweeper = new RetentionSweeper({
    store: store.retention,
    blobs: { delete: async (keys) => void deleted.push(...keys) },
    logger: pino({ level: 'silent' }),
    resultRetentionMs: 7 * day,
    uploadRetentionMs: 24 * hour,
    taskRetentionMs: 30 * day,
    sweepEveryMs: 60_000,
    batchSize: 2,
    clock: () => now,
  });
  const counts = await sweeper.sweep();
  // The key's quota totals of days before yesterday and of months before the last go too.
  const created = [40, 20, 10, 2, 0.5].map((daysAgo) => now - daysAgo * day - 1000).concat(now - 90 * day);
  const oldDays = new Set(created.map(startOfUtcDay).filter((start) => start < startOfUtcDay(now) - day));
  const oldMonths = new Set(created.map(startOfUtcMonth).filter((start) => start < startOfUtcMonth(startOfUtcMonth(now) - 1)));
  assert.deepEqual(counts, { resultsExpired: 3, uploadsDeleted: 1, tasksDeleted: 1, bookkeepingDeleted: oldDays.size + oldMonths.size });
  // A result goes with the thumbnail made of it (GET /v1/videos/{id}/content?variant=thumbnail).
  const results = ids.slice(0, 3).flatMap((id) => [`videos/${id}/0.mp4`, `videos/${id}/thumbnail.jpg`]);
  assert.deepEqual(deleted.sort(), [...results, 'uploads/u0/a.png'].sort(), 'each file once');
  assert.equal(await store.tasks.get(ids[0]), undefined, 'the task older than 30 days is gone');
  assert.equal((await store.tasks.getSnapshot(ids[1]))?.resultsExpiredAt, now, 'a 20-day-old task stays, its video expired');
  assert.equal((await store.tasks.getSnapshot(ids[3]))?.resultsExpiredAt, null, 'a recent result stays');
  assert.ok(await store.tasks.get('0190-9'), 'a task in flight is never deleted, however old');
  assert.deepEqual(await sweeper.sweep(), { resultsExpired: 0, uploadsDeleted: 0, tasksDeleted: 0, bookkeepingDeleted: 0 }, 'a second sweep finds nothing');
});

test('task rows are kept forever when task retention is off, and a failing blob store stops the sweep without marking', async () => {
  const now = Date.now();
  const { store, ids } = await storeWithHistory(now);
  /** A sweeper of results after 7 days and uploads after one, keeping task rows, on `deleteBlobs`. */
  const sweeperOn = (deleteBlobs: (keys: readonly string[]) => Promise<void>) =>
    new RetentionSweeper({
      store: store.retention,
      blobs: { delete: deleteBlobs },
      logger: pino({ level: 'silent' }),
      resultRetentionMs: 7 * day,
      uploadRetentionMs: 24 * hour,
      taskRetentionMs: undefined,
      sweepEveryMs: 60_000,
      clock: () => now,
    });
  const failing = sweeperOn(async () => Promise.reject(Object.assign(new Error('disk gone'), { code: 'EIO' })));
  await assert.rejects(failing.sweep(), /disk gone/);
  assert.equal((await store.tasks.getSnapshot(ids[0]))?.resultsExpiredAt, null, 'not marked: its file may still be there');
  const working = sweeperOn(async () => undefined);
  assert.equal((await working.sweep()).tasksDeleted, 0);
  assert.ok(await store.tasks.get(ids[0]), 'a 40-day-old task is kept');
});
