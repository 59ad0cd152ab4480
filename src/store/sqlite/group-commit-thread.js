// @ts-check
/**
 * A thread that stores new tasks for the main thread. A commit with `synchronous = FULL` waits for
 * an fsync (~200 µs here); done on the main thread it would stop every request meanwhile. Here,
 * the tasks that arrive while one commit waits on the disk are all stored by the next one (group
 * commit), and the main thread serves requests throughout.
 *
 * This thread is the only one that inserts tasks, and it adds a batch's tasks to the totals
 * admission reads (task-totals.ts) in the batch's transaction, once for the lot. A task with checks
 * is admitted in its own savepoint of the batch: its idempotency key is looked up and its key's
 * totals read, counting the tasks stored before it in the batch, in the same transaction that
 * inserts it; so two submissions can never pass a limit together. A task without any is one INSERT, atomic by itself. One task refused or
 * broken does not undo the others of its batch.
 *
 * Plain JavaScript on purpose: a worker's entry file is loaded without the TypeScript loader on
 * Node 20, and this file must run the same from source and once built. The statements come from
 * the main side (insert-committer.ts), which owns the columns.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/**
 * @typedef {{ maxInFlight?: number, maxQueued?: number, maxSecondsPerDay?: number, maxSecondsPerMonth?: number, maxQueuedTotal?: number, dayStart: number, monthStart: number }} Admission
 * @typedef {{ key: string, bodyHash: string, expiresAt: number }} Idempotency
 * @typedef {{ id: string, keyId: string, createdAt: number, billableSeconds: number, webhookUrl: string | null, [column: string]: unknown }} Row
 * @typedef {{ row: Row, idempotency?: Idempotency, admission?: Admission, finishedAs?: string, deliveryId?: string }} Message
 */

/** @type {{ file: string, pragmas: string[], sql: Record<string, string> }} */
const { file, pragmas, sql } = workerData;
const db = new Database(file);
for (const pragma of pragmas) db.pragma(pragma);
/** @type {Record<string, Database.Statement>} */
const statements = Object.fromEntries(Object.entries(sql).map(([name, text]) => [name, db.prepare(text)]));

/**
 * How each limit is counted: the statement, its period's start (seconds only), and whether the
 * task counts its own seconds (tasks count only those already there).
 */
const counters = /** @type {const} */ ([
  ['maxInFlight', 'countInFlight', () => undefined, false],
  ['maxQueued', 'countQueued', () => undefined, false],
  ['maxSecondsPerDay', 'secondsInDay', (/** @type {Admission} */ admission) => admission.dayStart, true],
  ['maxSecondsPerMonth', 'secondsInMonth', (/** @type {Admission} */ admission) => admission.monthStart, true],
  ['maxQueuedTotal', 'queuedTotal', () => undefined, false],
]);

/** Whether storing `message` asks for more than its INSERT: an idempotency key, limits (sent only when the key has some), a test-mode delivery. */
function checked(/** @type {Message} */ message) {
  return message.idempotency !== undefined || message.admission !== undefined || message.finishedAs !== undefined;
}

/** Stores a task that asks for nothing but its row. */
function insertTask(/** @type {Message} */ message) {
  statements.insertTask.run(message.row);
  return { outcome: 'created', id: message.row.id };
}

/** Adds the tasks of `ids`, stored in this transaction, to the totals. */
function addToTotals(/** @type {string[]} */ ids) {
  if (ids.length === 0) return;
  const bound = { ids: JSON.stringify(ids) };
  statements.addToQueueSize.run(bound);
  statements.addToKeyCounts.run(bound);
  statements.addToDaySeconds.run(bound);
  statements.addToMonthSeconds.run(bound);
}

/** `uncounted`: the tasks stored before this one in the batch, not yet in the totals. */
const admitOne = db.transaction((/** @type {Message} */ message, /** @type {string[]} */ uncounted) => {
  const { row, idempotency, admission } = message;
  if (idempotency) {
    const seen = /** @type {{ body_hash: string, task_id: string } | undefined} */ (
      statements.findIdempotency.get({ keyId: row.keyId, key: idempotency.key, now: row.createdAt })
    );
    if (seen) return { outcome: seen.body_hash === idempotency.bodyHash ? 'repeated' : 'conflict', id: seen.task_id };
  }
  const ids = JSON.stringify(uncounted);
  for (const [limit, statement, startsAt, ownSeconds] of counters) {
    const limitValue = admission?.[limit];
    // A test-mode task is stored ended: it never joins the queue.
    if (admission === undefined || limitValue === undefined || (limit === 'maxQueuedTotal' && message.finishedAs)) continue;
    const current = Number(statements[statement].pluck().get({ keyId: row.keyId, startsAt: startsAt(admission), ids }));
    const wouldBe = ownSeconds ? current + row.billableSeconds : current + 1;
    if (wouldBe > limitValue) return { outcome: 'refused', limit, current, limitValue };
  }
  if (message.finishedAs) {
    statements.insertFinishedTask.run({ ...row, status: message.finishedAs });
    if (row.webhookUrl && message.deliveryId) {
      statements.insertDelivery.run({ id: message.deliveryId, taskId: row.id, keyId: row.keyId, url: row.webhookUrl, now: row.createdAt });
    }
  } else {
    insertTask(message);
  }
  if (idempotency) {
    statements.saveIdempotency.run({ keyId: row.keyId, key: idempotency.key, bodyHash: idempotency.bodyHash, taskId: row.id, expiresAt: idempotency.expiresAt });
  }
  return { outcome: 'created', id: row.id };
});

const admitAll = db.transaction((/** @type {Message[]} */ messages) => {
  /** @type {string[]} The tasks stored so far in this batch, added to the totals at its end. */
  const stored = [];
  const results = messages.map((message) => {
    try {
      // One INSERT is atomic by itself: only a task with checks needs a savepoint of its own.
      const result = checked(message) ? admitOne(message, stored) : insertTask(message);
      if (result.outcome === 'created') stored.push(message.row.id);
      return { result };
    } catch (error) {
      // The driver's code (SQLITE_FULL …) crosses too: it tells a full disk from a bad row.
      const { message: text, code } = /** @type {Error & { code?: string }} */ (error);
      if (code === 'SQLITE_FULL' || code === 'SQLITE_IOERR' || code === 'SQLITE_BUSY') throw error;
      return { error: text, code };
    }
  });
  addToTotals(stored);
  return results;
});

/** @type {Message[]} */
let batch = [];

parentPort?.on('message', (/** @type {Message[]} */ messages) => {
  if (batch.length === 0) setImmediate(commit);
  batch.push(...messages);
});

/** Answers one result per task, in the order the tasks came: the main side matches them by position. */
function commit() {
  const messages = batch;
  batch = [];
  try {
    // IMMEDIATE: the write lock is taken before the counts are read, so another process on the
    // same file cannot insert between a count and its insert.
    parentPort?.postMessage({ answers: admitAll.immediate(messages) });
  } catch (error) {
    const { message, code } = /** @type {Error & { code?: string }} */ (error);
    parentPort?.postMessage({ answers: messages.map(() => ({ error: message, code })) });
  }
}
