import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { Batches } from '../batches.js';
import type { VersionedRow } from '../snapshot-cache.js';
import { snapshotColumnList } from '../task-rows.js';
import { connectionPragmas, readMapBytes } from './open-database.js';

const threadEntry = new URL('./snapshot-read-thread.js', import.meta.url);

/** What the thread runs: a version check, and the row with its version first (VersionedRow). */
const readStatements = {
  version: 'SELECT version FROM tasks WHERE id = ?',
  row: `SELECT version, ${snapshotColumnList} FROM tasks WHERE id = ?`,
};

type Read = { id: string; keptVersion: number };
type ThreadAnswer = { rows?: (unknown[] | null)[]; error?: string };

interface ReadThread {
  worker: Worker;
  /** The batch being read there: one at a time (Batches). */
  pending?: { resolve: (answer: ThreadAnswer) => void; reject: (error: Error) => void };
}

/**
 * The main thread's side of the read thread (snapshot-read-thread.js): the polls that arrive while
 * it reads one batch go together as the next (Batches). The event loop is left with the HTTP
 * work, the view and its signature: random polls of 200,000 tasks went from 26–37% of the bare
 * GET to 44% on two cores (docs/benchmarks.md).
 *
 * A thread that fails (it stopped, or a read threw there) costs no poll: its batch is read on the
 * main connection, and the next batch starts a new thread.
 */
export class SnapshotReader {
  private thread: ReadThread | undefined;
  private readonly readMain: Database.Statement;
  private readonly batches = new Batches<Read, VersionedRow>((reads) => this.readBatch(reads), { largest: 500 });
  private inFlight: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly file: string,
    main: Database.Database,
  ) {
    this.readMain = main.prepare(readStatements.row).raw(true);
  }

  read(id: string, keptVersion: number): Promise<VersionedRow> {
    return this.batches.add({ id, keptVersion });
  }

  private readBatch(reads: Read[]): Promise<VersionedRow[]> {
    const batch = this.readThere(reads).then(
      (answer) => (answer.rows ? answer.rows.map((row) => row ?? undefined) : this.readHere(reads)),
      () => this.readHere(reads),
    );
    this.inFlight = batch;
    return batch;
  }

  /** The batch on the main connection: how a failed thread's batch is still answered. */
  private readHere(reads: Read[]): VersionedRow[] {
    return reads.map((read) => this.readMain.get(read.id) as unknown[] | undefined);
  }

  private readThere(reads: Read[]): Promise<ThreadAnswer> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    const thread = this.startedThread();
    // Keep the process alive while a batch is being read, and only then.
    thread.worker.ref();
    const answer = new Promise<ThreadAnswer>((resolve, reject) => {
      thread.pending = { resolve, reject };
    });
    thread.worker.postMessage({ ids: reads.map((read) => read.id), keptVersions: reads.map((read) => read.keptVersion) });
    return answer.finally(() => thread.worker.unref());
  }

  private startedThread(): ReadThread {
    if (this.thread) return this.thread;
    const worker = new Worker(threadEntry, { workerData: { file: this.file, pragmas: [...connectionPragmas, `mmap_size = ${readMapBytes}`], sql: readStatements } });
    const thread: ReadThread = { worker };
    const settle = () => {
      const pending = thread.pending;
      thread.pending = undefined;
      return pending;
    };
    worker.on('message', (answer: ThreadAnswer) => settle()?.resolve(answer));
    const fail = (error: Error) => {
      if (this.thread === thread) this.thread = undefined;
      settle()?.reject(error);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the read thread stopped (exit code ${code})`)));
    worker.unref();
    this.thread = thread;
    return thread;
  }

  /** Lets the batch being read finish, then stops the thread. */
  async close(): Promise<void> {
    this.closed = true;
    await this.inFlight.catch(() => undefined);
    const thread = this.thread;
    this.thread = undefined;
    await thread?.worker.terminate();
  }
}
