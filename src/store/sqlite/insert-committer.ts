import { Worker } from 'node:worker_threads';
import type { Admission, IdempotencyClaim, InsertOutcome } from '../../spec/task-store.js';
import { TaskStatus } from '../../spec/task-status.js';
import { testModeError, testModeExtra } from '../test-mode-task.js';
import { connectionPragmas } from './open-database.js';
import { batchTotals } from './task-totals.js';

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

interface Pending {
  resolve: (outcome: InsertOutcome) => void;
  reject: (error: Error) => void;
}

/** What the thread answers for each task it was sent, in the order they were sent. */
type ThreadResult = { result?: InsertOutcome; error?: string; code?: string };

/** A commit thread, with the tasks of this event-loop turn yet to be sent and those awaiting their answer (in order). */
interface CommitThread {
  worker: Worker;
  outgoing: InsertMessage[];
  waiting: Pending[];
}

/**
 * The main thread's side of the group-commit thread: `insert` resolves once the task is durably
 * committed (or refused). The thread starts with the store, so the first submission does not wait.
 * The thread answers a batch's tasks in the order they were sent, so an answer needs no id: the
 * first answers go to the first tasks waiting.
 */
export class InsertCommitter {
  private thread: CommitThread | undefined;

  constructor(private readonly file: string) {
    this.startedThread().worker.unref();
  }

  insert(message: InsertMessage): Promise<InsertOutcome> {
    const thread = this.startedThread();
    return new Promise((resolve, reject) => {
      // Keep the process alive while a task waits for its commit, and only then.
      if (thread.waiting.length === 0) thread.worker.ref();
      thread.waiting.push({ resolve, reject });
      // The tasks of one turn go as one message.
      if (thread.outgoing.length === 0) setImmediate(() => this.send(thread));
      thread.outgoing.push(message);
    });
  }

  private send(thread: CommitThread): void {
    const messages = thread.outgoing;
    thread.outgoing = [];
    if (messages.length > 0) thread.worker.postMessage(messages);
  }

  async close(): Promise<void> {
    const thread = this.thread;
    this.thread = undefined;
    if (!thread) return;
    // Let the tasks already sent be committed before the thread goes.
    while (thread.waiting.length > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await thread.worker.terminate();
  }

  private startedThread(): CommitThread {
    if (this.thread) return this.thread;
    const worker = new Worker(threadEntry, { workerData: { file: this.file, pragmas: connectionPragmas, sql: insertStatements } });
    const thread: CommitThread = { worker, outgoing: [], waiting: [] };
    worker.on('message', ({ results }: { results: ThreadResult[] }) => {
      const answered = thread.waiting.splice(0, results.length);
      results.forEach(({ result, error, code }, index) => {
        if (result) answered[index].resolve(result);
        else answered[index].reject(Object.assign(new Error(error), { code }));
      });
      if (thread.waiting.length === 0) worker.unref();
    });
    // Every task of this thread fails with it, those not sent yet included: none of them is
    // stored, and a thread started after it has its own.
    const failAll = (error: Error) => {
      if (this.thread === thread) this.thread = undefined;
      thread.outgoing = [];
      for (const waiting of thread.waiting.splice(0)) waiting.reject(error);
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`the insert thread stopped (exit code ${code})`)));
    this.thread = thread;
    return thread;
  }
}
