import { Worker } from 'node:worker_threads';
import type { Admission, IdempotencyClaim, InsertOutcome } from '../../spec/task-store.js';
import { TaskStatus } from '../../spec/task-status.js';
import { testModeError, testModeExtra } from '../test-mode-task.js';
import { connectionPragmas } from './open-database.js';
import { addNewTasksToTotals } from './task-totals.js';

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
  ...addNewTasksToTotals(),
  // Totals kept by the thread and by triggers: one row of the key, however many tasks it has.
  countInFlight: 'SELECT in_flight FROM key_counts WHERE key_id = @keyId',
  countQueued: 'SELECT queued FROM key_counts WHERE key_id = @keyId',
  secondsIn: 'SELECT millis / 1000.0 FROM key_seconds WHERE key_id = @keyId AND span = @span AND starts_at = @startsAt',
  // One row, however long the queue.
  queuedTotal: 'SELECT queued FROM queue_size',
};

interface Pending {
  resolve: (outcome: InsertOutcome) => void;
  reject: (error: Error) => void;
}

type ThreadResult = { requestId: number; result?: InsertOutcome; error?: string; code?: string };

/**
 * The main thread's side of the group-commit thread: `insert` resolves once the task is durably
 * committed (or refused). The thread starts with the store, so the first submission does not wait.
 */
export class InsertCommitter {
  private thread: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextRequestId = 0;
  /** Tasks of this event-loop turn, sent to the thread as one message. */
  private outgoing: (InsertMessage & { requestId: number })[] = [];

  constructor(private readonly file: string) {
    this.startedThread().unref();
  }

  insert(message: InsertMessage): Promise<InsertOutcome> {
    const requestId = this.nextRequestId++;
    return new Promise((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject });
      const thread = this.startedThread();
      // Keep the process alive while a task waits for its commit, and only then.
      if (this.pending.size === 1) thread.ref();
      if (this.outgoing.length === 0) setImmediate(() => this.send(thread));
      this.outgoing.push({ ...message, requestId });
    });
  }

  private send(thread: Worker): void {
    const messages = this.outgoing;
    this.outgoing = [];
    thread.postMessage(messages);
  }

  async close(): Promise<void> {
    const thread = this.thread;
    this.thread = undefined;
    if (!thread) return;
    // Let the tasks already sent be committed before the thread goes.
    while (this.pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await thread.terminate();
  }

  private startedThread(): Worker {
    if (this.thread) return this.thread;
    const thread = new Worker(threadEntry, { workerData: { file: this.file, pragmas: connectionPragmas, sql: insertStatements } });
    thread.on('message', ({ results }: { results: ThreadResult[] }) => {
      for (const { requestId, result, error, code } of results) {
        const waiting = this.pending.get(requestId);
        this.pending.delete(requestId);
        if (result) waiting?.resolve(result);
        else waiting?.reject(Object.assign(new Error(error), { code }));
      }
      if (this.pending.size === 0) thread.unref();
    });
    const failAll = (error: Error) => {
      if (this.thread === thread) this.thread = undefined;
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    thread.on('error', failAll);
    thread.on('exit', (code) => failAll(new Error(`the insert thread stopped (exit code ${code})`)));
    this.thread = thread;
    return thread;
  }
}
