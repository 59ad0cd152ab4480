// @ts-check
/**
 * A thread that reads tasks for the main thread's polls: the row lookup of a poll no copy serves
 * (the task not kept, or its copy due for a version check) is the largest part of its work, and
 * here it runs beside the event loop instead of in it. The connection is read-only, and in WAL
 * mode a read sees every commit made before it began: a task is seen here as soon as its insert
 * or change has returned on the main side.
 *
 * Plain JavaScript on purpose, as group-commit-thread.js: a worker's entry file is loaded without
 * the TypeScript loader on Node 20. The statements come from the main side (snapshot-reader.ts),
 * which owns the columns.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/** @type {{ file: string, pragmas: string[], sql: { version: string, row: string } }} */
const { file, pragmas, sql } = workerData;
const db = new Database(file, { readonly: true });
for (const pragma of pragmas) db.pragma(pragma);
const version = db.prepare(sql.version).pluck();
const row = db.prepare(sql.row).raw(true);

/** See VersionedRow (snapshot-cache.ts): the version alone when it is the one kept; null for no such task. */
function read(/** @type {string} */ id, /** @type {number} */ keptVersion) {
  if (keptVersion >= 0 && version.get(id) === keptVersion) return [keptVersion];
  return row.get(id) ?? null;
}

/** One answer per read, in order (ThreadBatches); a read that threw is answered `{ error }`, and the main side reads that task itself. */
parentPort?.on('message', (/** @type {{ id: string, keptVersion: number }[]} */ reads) => {
  parentPort?.postMessage({
    answers: reads.map(({ id, keptVersion }) => {
      try {
        return read(id, keptVersion);
      } catch (error) {
        return { error: /** @type {Error} */ (error).message };
      }
    }),
  });
});
