// @ts-check
/**
 * A thread that commits rows for the main thread. A commit with `synchronous = FULL` waits for an
 * fsync (~200 µs here); done on the main thread it would stop every request meanwhile. Here, the
 * rows that arrive while one commit waits on the disk are all committed by the next one (group
 * commit), and the main thread serves requests throughout.
 *
 * Plain JavaScript on purpose: a worker's entry file is loaded without the TypeScript loader on
 * Node 20, and this file must run the same from source and once built. It knows nothing of
 * tasks: the main side sends the database file, its pragmas and the INSERT statement.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/** @type {{ file: string, pragmas: string[], sql: string }} */
const { file, pragmas, sql } = workerData;
const db = new Database(file);
for (const pragma of pragmas) db.pragma(pragma);
const insert = db.prepare(sql);
const insertAll = db.transaction((/** @type {{ row: unknown }[]} */ messages) => {
  for (const { row } of messages) insert.run(row);
});

/** @type {{ requestId: number, row: unknown }[]} */
let batch = [];

parentPort?.on('message', (/** @type {{ requestId: number, row: unknown }[]} */ messages) => {
  if (batch.length === 0) setImmediate(commit);
  batch.push(...messages);
});

function commit() {
  const messages = batch;
  batch = [];
  const requestIds = messages.map((message) => message.requestId);
  try {
    insertAll(messages);
    parentPort?.postMessage({ requestIds });
  } catch (error) {
    parentPort?.postMessage({ requestIds, error: /** @type {Error} */ (error).message });
  }
}
