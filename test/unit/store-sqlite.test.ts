import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import type { NewTask } from '../../src/spec/task-store.js';
import { InsertCommitter } from '../../src/store/sqlite/insert-committer.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { batchTotals } from '../../src/store/sqlite/task-totals.js';
import type { ThreadBatches } from '../../src/store/sqlite/thread-batches.js';
import { fillKey, keyTotals } from '../support/key-totals.js';
import { storeConformance } from '../support/store-conformance.js';
import { tempDir } from '../support/temp-dir.js';

storeConformance('SQLite', async () => {
  const file = path.join(tempDir(), 'wan.db');
  return { store: new SqliteStore(file), another: async () => new SqliteStore(file) };
});

test('a database made before the key totals existed gets them from its rows when it migrates', async () => {
  const file = path.join(tempDir(), 'wan.db');
  const now = Date.now();
  const before = new SqliteStore(file);
  const expected = await fillKey(before, 'old', now);
  await before.close();
  // Back to the schema before the key totals' migration (step 5), its rows kept.
  const db = new Database(file);
  db.exec(`DROP TRIGGER IF EXISTS tasks_key_counts_insert; DROP TRIGGER tasks_key_counts_delete; DROP TRIGGER tasks_key_counts_update;
    DROP TABLE key_counts; DROP TABLE key_seconds; PRAGMA user_version = 4;`);
  db.close();
  const after = new SqliteStore(file);
  try {
    assert.deepEqual(await keyTotals(after, 'old', now), expected);
  } finally {
    await after.close();
  }
});

test('a task with limits counts the tasks without any stored before it in the same group commit', async () => {
  const store = new SqliteStore(path.join(tempDir(), 'wan.db'));
  try {
    const task = (keyId: string, billableSeconds: number): NewTask => ({
      id: `0190-${keyId}-${Math.random()}`,
      keyId,
      model: 'wan2.7-t2v',
      request: { prompt: 'a boat' },
      seed: 1,
      webhookUrl: null,
      billableSeconds,
      createdAt: Date.now(),
    });
    // Submitted in one turn of the event loop, so stored in one transaction of the commit thread:
    // the tasks asking for nothing are added to the totals before the one whose limits read them.
    const free = Array.from({ length: 3 }, () => store.tasks.insert(task('mixed', 2)));
    const held = store.tasks.insert(task('mixed', 2), { admission: { maxSecondsPerDay: 7 } });
    const queued = store.tasks.insert(task('other', 1), { admission: { maxQueued: 1, maxQueuedTotal: 3 } });
    assert.deepEqual(
      (await Promise.all([...free, held, queued])).map((outcome) => outcome.outcome),
      ['created', 'created', 'created', 'refused', 'refused'],
    );
    assert.deepEqual(await held, { outcome: 'refused', limit: 'maxSecondsPerDay', current: 6, limitValue: 7 });
    assert.deepEqual(await queued, { outcome: 'refused', limit: 'maxQueuedTotal', current: 3, limitValue: 3 });
  } finally {
    await store.close();
  }
});

test('the totals and counts of a group commit find each task of the batch by its id, however many tasks its key has queued', async () => {
  const file = path.join(tempDir(), 'wan.db');
  await new SqliteStore(file).close();
  const db = new Database(file, { readonly: true });
  try {
    for (const [name, sql] of Object.entries(batchTotals)) {
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all({ ids: '[]', keyId: 'k', startsAt: 0 }) as { detail: string }[])
        .map((step) => step.detail);
      // Only a lookup by id reads tasks: a walk over a key's queued tasks grew with the queue (8–9 ms an admission at 48,000).
      const readsOfTasks = plan.filter((step) => /\btasks\b/.test(step));
      assert.ok(readsOfTasks.length > 0, `${name} reads tasks: ${plan.join('; ')}`);
      for (const step of readsOfTasks) assert.match(step, /^SEARCH tasks USING INDEX \w+ \((key_id=\? AND )?id=\?\)$/, `${name}: ${plan.join('; ')}`);
    }
  } finally {
    db.close();
  }
});

test('the tasks waiting on a commit thread that stops fail, none of them stored, and the next task gets a new thread', async () => {
  const file = path.join(tempDir(), 'wan.db');
  const store = new SqliteStore(file);
  const committer = new InsertCommitter(file);
  try {
    const message = (id: string) => ({
      row: { id, keyId: 'k', model: 'wan2.7-t2v', request: '{}', seed: 1, webhookUrl: null, billableSeconds: 1, createdAt: Date.now() },
    });
    const waiting = [committer.insert(message('lost-1')), committer.insert(message('lost-2'))];
    await (committer as unknown as { thread: ThreadBatches<unknown, unknown> }).thread.worker().terminate();
    for (const insert of waiting) await assert.rejects(insert, /the insert thread stopped/);
    assert.deepEqual(await committer.insert(message('after')), { outcome: 'created', id: 'after' });
    assert.equal(await store.tasks.get('lost-1'), undefined);
    assert.equal(await store.tasks.get('lost-2'), undefined);
    assert.equal((await store.tasks.get('after'))?.id, 'after');
  } finally {
    await committer.close();
    await store.close();
  }
});

test('polls whose read thread stops are answered from the main connection, and the next poll gets a new thread', async () => {
  const store = new SqliteStore(path.join(tempDir(), 'wan.db'));
  try {
    const ids = ['0190-read-1', '0190-read-2', '0190-read-3'];
    for (const id of ids) {
      await store.tasks.insert({ id, keyId: 'k', model: 'wan2.7-t2v', request: { prompt: 'a boat' }, seed: 1, webhookUrl: null, billableSeconds: 1, createdAt: Date.now() });
    }
    const thread = (store as unknown as { reads: { thread: ThreadBatches<unknown, unknown> } }).reads.thread;
    assert.equal((await store.tasks.getSnapshot(ids[0]))?.id, ids[0], 'read by the thread');
    const first = thread.worker();
    // Polls of one turn, sent as one batch that the thread's end catches on its way.
    const polls = ids.map((id) => store.tasks.getSnapshot(id));
    await first.terminate();
    assert.deepEqual((await Promise.all(polls)).map((task) => task?.id), ids);
    assert.equal(await store.tasks.getSnapshot('0190-none'), undefined);
    assert.notEqual(thread.worker(), first, 'a new thread reads the next polls');
  } finally {
    await store.close();
  }
});
