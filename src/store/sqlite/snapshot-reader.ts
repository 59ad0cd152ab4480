import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { VersionedRow } from '../snapshot-cache.js';
import { snapshotColumnList } from '../task-rows.js';
import { connectionPragmas, readMapBytes } from './open-database.js';
import { ThreadBatches } from './thread-batches.js';

const threadEntry = new URL('./snapshot-read-thread.js', import.meta.url);

/** What the thread runs: a version check, and the row with its version first (VersionedRow). */
const readStatements = {
  version: 'SELECT version FROM tasks WHERE id = ?',
  row: `SELECT version, ${snapshotColumnList} FROM tasks WHERE id = ?`,
};

type Read = { id: string; keptVersion: number };
/** A row (VersionedRow), null for no such task, or the error of a read that threw there. */
type ThreadAnswer = unknown[] | null | { error: string };

/**
 * The main thread's side of the read thread (snapshot-read-thread.js): the polls of one turn of
 * the event loop go as one batch (ThreadBatches). The event loop is left with the HTTP work, the
 * view and its signature: random polls of 200,000 tasks went from 26–37% of the bare GET to
 * 49–52% on two cores (docs/benchmarks.md).
 *
 * A poll the thread fails (it stopped, or the read threw there) is read on the main connection:
 * no poll is lost to the thread, and the next batch starts a new one.
 */
export class SnapshotReader {
  private readonly thread: ThreadBatches<Read, ThreadAnswer>;
  private readonly readMain: Database.Statement;

  constructor(file: string, main: Database.Database) {
    this.thread = new ThreadBatches('the read thread', () => new Worker(threadEntry, { workerData: { file, pragmas: [...connectionPragmas, `mmap_size = ${readMapBytes}`], sql: readStatements } }));
    this.readMain = main.prepare(readStatements.row).raw(true);
  }

  read(id: string, keptVersion: number): Promise<VersionedRow> {
    return this.thread.add({ id, keptVersion }).then(
      (answer) => (answer === null ? undefined : Array.isArray(answer) ? answer : this.readHere(id)),
      () => this.readHere(id),
    );
  }

  /** A poll the thread failed, read on the main connection. */
  private readHere(id: string): VersionedRow {
    return this.readMain.get(id) as unknown[] | undefined;
  }

  close(): Promise<void> {
    return this.thread.close();
  }
}
