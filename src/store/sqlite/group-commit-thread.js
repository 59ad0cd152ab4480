// @ts-check
/**
 * A thread that stores new tasks for the main thread. A commit with `synchronous = FULL` waits for
 * an fsync (~200 µs here); done on the main thread it would stop every request meanwhile. Here,
 * the tasks that arrive while one commit waits on the disk are all stored by the next one (group
 * commit), and the main thread serves requests throughout.
 *
 * This thread is the only one that inserts tasks, and it adds them to the totals admission reads
 * (task-totals.ts) in the same transaction: the tasks without checks of a run of the batch at
 * once, a task with checks by itself. Such a task is admitted in its own savepoint of the batch:
 * its idempotency key is looked up and its key's totals read, with every task before it in the
 * batch already counted, in the same transaction that inserts it; so two submissions can never
 * pass a limit together. A task without any is one INSERT, atomic by itself. One task refused or
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

/** How each limit is counted, and the statement that counts it. */
const counters = /** @type {const} */ ([
  ['maxInFlight', 'countInFlight', (/** @type {Message} */ message) => ({ keyId: message.row.keyId })],
  ['maxQueued', 'countQueued', (/** @type {Message} */ message) => ({ keyId: message.row.keyId })],
  ['maxSecondsPerDay', 'secondsIn', (/** @type {Message} */ message) => ({ keyId: message.row.keyId, span: 'day', startsAt: message.admission?.dayStart })],
  ['maxSecondsPerMonth', 'secondsIn', (/** @type {Message} */ message) => ({ keyId: message.row.keyId, span: 'month', startsAt: message.admission?.monthStart })],
  ['maxQueuedTotal', 'queuedTotal', () => undefined],
]);

/** Whether storing `message` asks for more than its INSERT: an idempotency key, limits (sent only when the key has some), a test-mode delivery. */
function checked(/** @type {Message} */ message) {
  return message.idempotency !== undefined || message.admission !== undefined || message.finishedAs !== undefined;
}

/** Stores a task that asks for nothing but its row; it is yet to be added to the totals. */
function insertTask(/** @type {Message} */ message) {
  statements.insertTask.run(message.row);
  return { outcome: 'created', id: message.row.id };
}

/** Adds the tasks of `ids`, just inserted, to the totals. */
function addToTotals(/** @type {string[]} */ ids) {
  if (ids.length === 0) return;
  const bound = { ids: JSON.stringify(ids) };
  statements.addToQueueSize.run(bound);
  statements.addToKeyCounts.run(bound);
  statements.addToDaySeconds.run(bound);
  statements.addToMonthSeconds.run(bound);
}

const admitOne = db.transaction((/** @type {Message} */ message) => {
  const { row, idempotency, admission } = message;
  if (idempotency) {
    const seen = /** @type {{ body_hash: string, task_id: string } | undefined} */ (
      statements.findIdempotency.get({ keyId: row.keyId, key: idempotency.key, now: row.createdAt })
    );
    if (seen) return { outcome: seen.body_hash === idempotency.bodyHash ? 'repeated' : 'conflict', id: seen.task_id };
  }
  for (const [limit, statement, parameters] of counters) {
    const limitValue = admission?.[limit];
    // A test-mode task is stored ended: it never joins the queue.
    if (limitValue === undefined || (limit === 'maxQueuedTotal' && message.finishedAs)) continue;
    // Seconds count this task's own; tasks count only those already there.
    const bound = parameters(message);
    const current = Number((bound === undefined ? statements[statement].pluck().get() : statements[statement].pluck().get(bound)) ?? 0);
    const wouldBe = statement === 'secondsIn' ? current + row.billableSeconds : current + 1;
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
  addToTotals([row.id]);
  if (idempotency) {
    statements.saveIdempotency.run({ keyId: row.keyId, key: idempotency.key, bodyHash: idempotency.bodyHash, taskId: row.id, expiresAt: idempotency.expiresAt });
  }
  return { outcome: 'created', id: row.id };
});

const admitAll = db.transaction((/** @type {Message[]} */ messages) => {
  /** @type {string[]} Tasks inserted without checks, not yet in the totals. */
  let uncounted = [];
  const results = messages.map((message) => {
    const withChecks = checked(message);
    // A task with checks reads totals that must count every task before it.
    if (withChecks) {
      addToTotals(uncounted);
      uncounted = [];
    }
    try {
      // One INSERT is atomic by itself: only a task with checks needs a savepoint of its own.
      if (withChecks) return { result: admitOne(message) };
      const result = insertTask(message);
      uncounted.push(message.row.id);
      return { result };
    } catch (error) {
      // The driver's code (SQLITE_FULL …) crosses too: it tells a full disk from a bad row.
      const { message: text, code } = /** @type {Error & { code?: string }} */ (error);
      if (code === 'SQLITE_FULL' || code === 'SQLITE_IOERR' || code === 'SQLITE_BUSY') throw error;
      return { error: text, code };
    }
  });
  addToTotals(uncounted);
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
    parentPort?.postMessage({ results: admitAll.immediate(messages) });
  } catch (error) {
    const { message, code } = /** @type {Error & { code?: string }} */ (error);
    parentPort?.postMessage({ results: messages.map(() => ({ error: message, code })) });
  }
}
