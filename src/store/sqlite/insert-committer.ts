import { Worker } from 'node:worker_threads';
import type { Admission, IdempotencyClaim, InsertOutcome } from '../../spec/task-store.js';
import { TaskStatus } from '../../spec/task-status.js';
import { testModeError, testModeExtra } from '../test-mode-task.js';
import { connectionPragmas } from './open-database.js';
import { batchTotals } from './task-totals.js';
import { ThreadBatches } from './thread-batches.js';

const threadEntry = new URL('./group-commit-thread.js', import.meta.url);

/** A new task's row, already serialised: it crosses to the commit thread as is. */
export interface InsertRow {
  id: string;
  keyId: string;
  model: string;
  request: string;
  seed: number;
  webhookUrl: string | null;
  billableSeconds: number;
  createdAt: number;
}

export interface InsertMessage {
  row: InsertRow;
  idempotency?: IdempotencyClaim;
  /** Limits to admit the task under, and where their day and month begin (UTC). */
  admission?: Admission & { dayStart: number; monthStart: number };
  /** A test-mode task: stored already ended, its webhook delivery (this id) due now. */
  finishedAs?: TaskStatus;
  deliveryId?: string;
}

/** The statements the thread runs: the columns stay on this side. */
export const insertStatements = {
  insertTask: `INSERT INTO tasks (id, key_id, model, status, request_json, seed, webhook_url, billable_seconds, created_at)
    VALUES (@id, @keyId, @model, '${TaskStatus.Queued}', @request, @seed, @webhookUrl, @billableSeconds, @createdAt)`,
  insertFinishedTask: `INSERT INTO tasks (id, key_id, model, status, request_json, seed, webhook_url, billable_seconds, created_at,
      started_at, completed_at, progress_percent, extra_json, error_json)
    VALUES (@id, @keyId, @model, @status, @request, @seed, @webhookUrl, 0, @createdAt, @createdAt, @createdAt,
      CASE @status WHEN '${TaskStatus.Succeed}' THEN 100 ELSE 0 END, '${testModeExtra}',
      CASE @status WHEN '${TaskStatus.Failed}'
        THEN '${testModeError}' END)`,
  insertDelivery: `INSERT INTO webhook_deliveries (id, task_id, key_id, url, event_type, next_attempt_at, created_at)
    VALUES (@id, @taskId, @keyId, @url, 'ASYNC_TASK_RESULT', @now, @now)`,
  findIdempotency: `SELECT body_hash, task_id FROM idempotency_keys
    WHERE key_id = @keyId AND idempotency_key = @key AND expires_at > @now`,
  saveIdempotency: `INSERT OR REPLACE INTO idempotency_keys (key_id, idempotency_key, body_hash, task_id, expires_at)
    VALUES (@keyId, @key, @bodyHash, @taskId, @expiresAt)`,
  // The totals admission reads (a few rows, however many tasks), and the batch's additions to them.
  ...batchTotals,
};

/** What the thread answers for each task it was sent, in the order they were sent. */
type ThreadResult = { result?: InsertOutcome; error?: string; code?: string };

/**
 * The main thread's side of the group-commit thread: `insert` resolves once the task is durably
 * committed (or refused). The thread starts with the store, so the first submission does not wait.
 * A task the thread could not store is refused with the thread's error and the driver's code;
 * every task of a thread that stops fails with it (ThreadBatches), none of them stored.
 */
export class InsertCommitter {
  private readonly thread: ThreadBatches<InsertMessage, ThreadResult>;

  constructor(file: string) {
    this.thread = new ThreadBatches('the insert thread', () => new Worker(threadEntry, { workerData: { file, pragmas: connectionPragmas, sql: insertStatements } }));
    this.thread.worker();
  }

  async insert(message: InsertMessage): Promise<InsertOutcome> {
    const { result, error, code } = await this.thread.add(message);
    if (result) return result;
    throw Object.assign(new Error(error), { code });
  }

  close(): Promise<void> {
    return this.thread.close();
  }
}
