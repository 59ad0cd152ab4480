import { Worker } from 'node:worker_threads';
import { connectionPragmas, type InsertRow, insertTaskSql } from './open-database.js';

const threadEntry = new URL('./group-commit-thread.js', import.meta.url);

interface Pending {
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * The main thread's side of the group-commit thread: `insert` resolves once the row is durably
 * committed. The thread starts with the store, so the first submission does not wait for it.
 */
export class InsertCommitter {
  private thread: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextRequestId = 0;
  /** Rows of this event-loop turn, sent to the thread as one message. */
  private outgoing: { requestId: number; row: InsertRow }[] = [];

  constructor(private readonly file: string) {
    this.startedThread().unref();
  }

  insert(row: InsertRow): Promise<void> {
    const requestId = this.nextRequestId++;
    return new Promise((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject });
      const thread = this.startedThread();
      // Keep the process alive while a row waits for its commit, and only then.
      if (this.pending.size === 1) thread.ref();
      if (this.outgoing.length === 0) setImmediate(() => this.send(thread));
      this.outgoing.push({ requestId, row });
    });
  }

  private send(thread: Worker): void {
    const rows = this.outgoing;
    this.outgoing = [];
    thread.postMessage(rows);
  }

  async close(): Promise<void> {
    const thread = this.thread;
    this.thread = undefined;
    if (!thread) return;
    // Let the rows already sent be committed before the thread goes.
    while (this.pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await thread.terminate();
  }

  private startedThread(): Worker {
    if (this.thread) return this.thread;
    const thread = new Worker(threadEntry, { workerData: { file: this.file, pragmas: connectionPragmas, sql: insertTaskSql } });
    thread.on('message', ({ requestIds, error }: { requestIds: number[]; error?: string }) => {
      for (const requestId of requestIds) {
        const waiting = this.pending.get(requestId);
        this.pending.delete(requestId);
        if (error === undefined) waiting?.resolve();
        else waiting?.reject(new Error(error));
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
