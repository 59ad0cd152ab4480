import path from 'node:path';
import { Worker } from 'node:worker_threads';
import Fastify from 'fastify';
import pg from 'pg';
import { v7 as timeOrderedUuid } from 'uuid';
import { Batches } from '../src/store/postgres/batches.js';
import { groupLimits } from '../src/store/postgres/grouped-inserts.js';
import { snapshotReadLimits } from '../src/store/postgres/pg-tasks.js';
import { connectionPragmas } from '../src/store/sqlite/open-database.js';
import { ThreadBatches } from '../src/store/sqlite/thread-batches.js';
import { createTable, postgresInsert, readTask } from './floor-statements.js';

/**
 * The store floor: the bare server (bare-server.ts) doing, before it answers, the least work the
 * store the bench measures must do for each request, in the same store and grouped as ours is:
 * - a model POST makes the submission durable: its id and JSON body, one row of a table of its
 *   own with one index, the rows that arrive while a commit is under way written by the next
 *   one (no key, no checks, no totals, no other column or index; ids time-ordered as ours, which
 *   append to the index where random ones would scatter writes over it);
 * - the Task Result GET reads the named task's status and results from the tasks table ours reads.
 * Its answers are the bare server's bytes. Where ours falls short of the bare server, this tells
 * how much of the distance the store itself takes on this machine, and how much is our own work.
 *
 * On PostgreSQL, the store's own Batches and limits (grouped-inserts.ts, pg-tasks.ts) group the
 * statements; on SQLite, with the store's pragmas (WAL, synchronous = FULL), a thread commits the
 * rows that reached it meanwhile and another reads, both fed through the store's ThreadBatches
 * as the embedded store's threads are, so the event loop never waits on the disk.
 *
 *   node --import tsx bench/store-floor.ts <port> postgres <database url>   (its search_path)
 *   node --import tsx bench/store-floor.ts <port> sqlite <data dir>         (reads its wan.db)
 */
const [port, store, location] = process.argv.slice(2);
const getBody = process.env.BARE_GET_BODY ?? '{}';
const headers = JSON.parse(process.env.BARE_HEADERS ?? '{}') as Record<string, string>;

type Row = { id: string; request: string };
interface Floor {
  write: (row: Row) => Promise<unknown>;
  read: (id: string) => Promise<unknown>;
}

async function postgresFloor(): Promise<Floor> {
  const client = new pg.Client({ connectionString: location });
  await client.connect();
  await client.query(createTable);
  const writes = new Batches<Row, void>(async (rows) => {
    await client.query({ name: 'floor-insert', text: postgresInsert, values: [JSON.stringify(rows)] });
    return rows.map(() => undefined);
  }, groupLimits);
  const reads = new Batches<string, unknown>(async (ids) => {
    const { rows } = await client.query<{ id: string }>({ name: 'floor-read', text: `${readTask} = ANY($1)`, values: [ids] });
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id));
  }, snapshotReadLimits);
  return { write: (row) => writes.add(row), read: (id) => reads.add(id) };
}

/** A thread running `onMessage(items)` (plain JavaScript, with `db` open on `file`) for ThreadBatches. */
function sqliteThread(name: string, file: string, readonly: boolean, setUp: string, onMessage: string): ThreadBatches<unknown, unknown> {
  return new ThreadBatches(name, () =>
    new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const db = new (require('better-sqlite3'))(workerData.file, { readonly: workerData.readonly });
       for (const pragma of workerData.pragmas) db.pragma(pragma);
       ${setUp}
       parentPort.on('message', ${onMessage});`,
      { eval: true, workerData: { file, readonly, pragmas: connectionPragmas } },
    ),
  );
}

function sqliteFloor(): Floor {
  const writer = sqliteThread(
    'the floor writer',
    path.join(location, 'floor.db'),
    false,
    `db.exec(${JSON.stringify(createTable)});
     const insert = db.prepare('INSERT INTO floor_submissions (id, request) VALUES (@id, @request)');
     const write = db.transaction((rows) => { for (const row of rows) insert.run(row); });
     let group = [];
     function commit() {
       const rows = group;
       group = [];
       write(rows);
       parentPort.postMessage({ answers: rows.map(() => true) });
     }`,
    '(rows) => { if (group.length === 0) setImmediate(commit); group.push(...rows); }',
  );
  const reader = sqliteThread(
    'the floor reader',
    path.join(location, 'wan.db'),
    true,
    `const read = db.prepare(${JSON.stringify(`${readTask} = ?`)});`,
    '(ids) => parentPort.postMessage({ answers: ids.map((id) => read.get(id) ?? null) })',
  );
  return { write: (row) => writer.add(row), read: (id) => reader.add(id) };
}

const floor = store === 'postgres' ? await postgresFloor() : sqliteFloor();
const app = Fastify();
app.post('/v3/async/:model', async (request, reply) => {
  const row = { id: timeOrderedUuid(), request: JSON.stringify(request.body) };
  await floor.write(row);
  return reply.headers(headers).send({ task_id: row.id });
});
app.get<{ Querystring: { task_id: string } }>('/v3/async/task-result', async (request, reply) => {
  await floor.read(request.query.task_id);
  return reply.headers(headers).type('application/json; charset=utf-8').send(getBody);
});
await app.listen({ host: '127.0.0.1', port: Number(port) });
process.stdout.write('listening\n');
// An orderly exit on the bench's SIGTERM, so that a --cpu-prof (BENCH_PROFILE) is written.
process.once('SIGTERM', () => process.exit(0));
