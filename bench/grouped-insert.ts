/**
 * What a group of new tasks costs PostgreSQL, alone on an idle machine: the store's grouped
 * insert (grouped-inserts.ts: the task rows, their indexes, the totals, the commit) against the
 * store floor's insert of the same group (floor-statements.ts: an id and the request's text, one
 * index), in alternating rounds on one connection each, synchronous commit as the store runs.
 * Each side's CPU is read from /proc for its own backend, so nothing else on the machine (the
 * server, autocannon, the walwriter) counts; the whole-path bench (hot-path.ts) cannot tell the
 * statement's cost from the waits around it, and its ratios move with the machine from run to run.
 *
 * Groups of 1 (a quiet server), 12 and 32 rows (what 32 clients make under load): from the first
 * two, a statement's fixed cost and each further row's. No process listens and no group announces
 * itself: under load most groups do not (queued-announcements.ts).
 *
 *   npm run bench:grouped-insert     BENCH_ROUNDS (4), BENCH_STATEMENTS (1000 a side, round and size)
 */
import pg from 'pg';
import { v7 as timeOrderedUuid } from 'uuid';
import type { NewTask } from '../src/spec/task-store.js';
import { groupJson, insertGroup } from '../src/store/postgres/grouped-inserts.js';
import { migrate } from '../src/store/postgres/migrations.js';
import { benchSchema } from './database.js';
import { createTable, postgresInsert } from './floor-statements.js';
import { percentile, processUsage, submitBody } from './processes.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 4);
const statements = Number(process.env.BENCH_STATEMENTS ?? 1000);
const sizes = [1, 12, 32];
const request = JSON.parse(submitBody) as NewTask['request'];

interface Side {
  name: 'ours' | 'floor';
  /** The statement and its values for a group of `size` new rows. */
  statement: (size: number) => pg.QueryConfig;
}

const ours: Side = {
  name: 'ours',
  statement: (size) => {
    const tasks = Array.from({ length: size }, (): NewTask => ({
      id: timeOrderedUuid(),
      keyId: 'bench-key',
      model: 'wan2.7-t2v',
      request,
      seed: 7,
      webhookUrl: null,
      billableSeconds: 5,
      createdAt: Date.now(),
    }));
    return { name: 'ours', text: insertGroup, values: ['bench_events', groupJson(tasks), null, false] };
  },
};

const floor: Side = {
  name: 'floor',
  statement: (size) => ({
    name: 'floor',
    text: postgresInsert,
    values: [JSON.stringify(Array.from({ length: size }, () => ({ id: timeOrderedUuid(), request: submitBody })))],
  }),
};

/** The connection's backend CPU (µs) and the wall time (µs) per statement, over `statements` groups of `size`. */
async function measure(client: pg.Client, backend: number, side: Side, size: number): Promise<{ cpu: number; wall: number }> {
  const cpuBefore = processUsage(backend).cpuMs;
  const startedAt = performance.now();
  for (let index = 0; index < statements; index++) await client.query(side.statement(size));
  const wall = ((performance.now() - startedAt) * 1000) / statements;
  return { cpu: ((processUsage(backend).cpuMs - cpuBefore) * 1000) / statements, wall };
}

async function connect(url: string): Promise<{ client: pg.Client; backend: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return { client, backend: rows[0].pid };
}

const schema = await benchSchema();
const results = new Map<string, { cpu: number[]; wall: number[] }>();
try {
  const sides = await Promise.all([ours, floor].map(async (side) => ({ side, ...(await connect(schema.url)) })));
  await migrate(sides[0].client);
  await sides[1].client.query(createTable);
  // Warm-up: the plans cached (a generic one after five runs), the tables past their first pages.
  for (const { side, client } of sides) for (const size of sizes) for (let index = 0; index < 50; index++) await client.query(side.statement(size));
  for (let round = 0; round < rounds; round++) {
    for (const size of sizes) {
      for (const { side, client, backend } of round % 2 === 0 ? sides : [...sides].reverse()) {
        const { cpu, wall } = await measure(client, backend, side, size);
        const entry = results.get(`${side.name} ${size}`) ?? { cpu: [], wall: [] };
        entry.cpu.push(cpu);
        entry.wall.push(wall);
        results.set(`${side.name} ${size}`, entry);
      }
    }
    console.log(`round ${round + 1}: ${sizes.map((size) => `${size} rows ${['ours', 'floor'].map((name) => results.get(`${name} ${size}`)!.cpu.at(-1)!.toFixed(0)).join(' / ')} µs`).join(', ')}`);
  }
  await Promise.all(sides.map(({ client }) => client.end()));
} finally {
  await schema.drop();
}

const median = (name: string, size: number, of: 'cpu' | 'wall') => percentile(results.get(`${name} ${size}`)![of], 0.5);
const range = (name: string, size: number) => {
  const cpu = results.get(`${name} ${size}`)!.cpu;
  return `${Math.min(...cpu).toFixed(0)}–${Math.max(...cpu).toFixed(0)}`;
};
console.log(`\nmedians of ${rounds} alternating rounds of ${statements} statements a side and size, one connection each, synchronous commit; the backend's CPU per statement (its range) and the wall time`);
console.log('| rows a group | ours: database CPU µs | floor: database CPU µs | ours / floor | ours: CPU µs a row | floor: CPU µs a row | wall µs, ours / floor |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const size of sizes) {
  const [own, least] = [median('ours', size, 'cpu'), median('floor', size, 'cpu')];
  console.log(
    `| ${size} | ${own.toFixed(0)} (${range('ours', size)}) | ${least.toFixed(0)} (${range('floor', size)}) | ${(own / least).toFixed(2)} | ` +
      `${(own / size).toFixed(1)} | ${(least / size).toFixed(1)} | ${median('ours', size, 'wall').toFixed(0)} / ${median('floor', size, 'wall').toFixed(0)} |`,
  );
}
const perRow = (name: string) => (median(name, 12, 'cpu') - median(name, 1, 'cpu')) / 11;
console.log(
  `\nfrom the groups of 1 and 12: a statement's fixed cost ${(median('ours', 1, 'cpu') - perRow('ours')).toFixed(0)} / ${(median('floor', 1, 'cpu') - perRow('floor')).toFixed(0)} µs, ` +
    `each further row ${perRow('ours').toFixed(1)} / ${perRow('floor').toFixed(1)} µs (ours / floor)`,
);
