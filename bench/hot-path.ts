/**
 * The hot path measured from outside: the built `wan serve` process against a bare Fastify server
 * answering the same bytes, on SQLite and on PostgreSQL, in alternating rounds (bare, ours, bare,
 * ours …) so that whatever else loads the machine hits both sides alike. Both sides are sent the
 * very same requests (bare-server.ts answers on the API's paths), so that autocannon, which
 * shares the two cores with the server, costs both the same. Cases:
 *
 * - task result of one hot task (a finished task with a result video, so its URL is signed);
 * - task result of a random task among 200,000 of the key's (far more than any cache holds);
 * - submit of a t2v task, against a bare POST answering `{"task_id": …}`.
 *
 * The random polls and the submissions are measured in the same rounds on the store floor too
 * (store-floor.ts: the bare server that first reads the task's row, or stores the submission
 * durably, in the same store at the least cost a store can): it tells how much of the bare
 * server the store itself leaves on this machine, before any work of ours.
 *
 * Each round's CPU time per request is read from /proc for the server, for autocannon (this
 * process) and, on PostgreSQL, for every process of the machine's PostgreSQL server, and for the
 * server's main thread, its event loop, alone. Their sum is the machine's CPU a request takes on
 * that side: with the event loop's, it tells the share of the cores and of the event loop's time
 * each side kept busy, and the ratio ours would reach CPU-bound, with every core or its event
 * loop busy, whichever comes first (what its work alone allows, whatever the waits between).
 *
 * A submission is answered once its row is durable, so the run first times a durable write on the
 * data directories' disk (disk-sync.ts): SQLite's submit case follows it from machine to machine.
 *
 * The 200,000 finished tasks are written straight into the tasks table before the server starts
 * (one prepared INSERT in a transaction on SQLite; batches of 20,000 through `unnest` on
 * PostgreSQL), as rows a worker would have left behind: status succeeded, one result video.
 *
 *   npm run bench:hot-path     BENCH_SECONDS (5), BENCH_ROUNDS (5), BENCH_CONNECTIONS (32),
 *                              BENCH_TASKS (200000), BENCH_STORES (sqlite,postgres), BENCH_SEED,
 *                              BENCH_CASES (hot,random,submit), BENCH_PROFILE=<dir> writes a
 *                              --cpu-prof of each server process there (ours, bare, floor)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import pg from 'pg';
import { v7 as timeOrderedUuid } from 'uuid';
import { benchSchema } from './database.js';
import { diskSyncMicros } from './disk-sync.js';
import { listening, mainThreadCpuMs, percentile, processUsage, root, serverArgs, startBareServer, startProcess, startStoreFloor, stop, submitBody } from './processes.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const taskCount = Number(process.env.BENCH_TASKS ?? 200_000);
const stores = (process.env.BENCH_STORES ?? 'sqlite,postgres').split(',');
const seed = Number(process.env.BENCH_SEED ?? Date.now() % 2 ** 31);
const profileDir = process.env.BENCH_PROFILE;
const caseNames = (process.env.BENCH_CASES ?? 'hot,random,submit').split(',');
const barePort = 47_812;
const floorPort = 47_813;

/** mulberry32: the random task ids are reproducible from the printed seed. */
function seededRandom(state: number): () => number {
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `taskCount` finished tasks of the key, with one result video each; answers their ids. */
async function seedTasks(dataDir: string, databaseUrl: string | undefined, keyHashPrefix: string): Promise<string[]> {
  const now = Date.now();
  const ids = Array.from({ length: taskCount }, () => timeOrderedUuid());
  const results = (id: string) => JSON.stringify([{ key: `videos/${id}/0.mp4`, type: 'mp4' }]);
  if (databaseUrl === undefined) {
    const db = new Database(path.join(dataDir, 'wan.db'));
    try {
      const keyId = db.prepare('SELECT id FROM api_keys WHERE prefix = ?').pluck().get(keyHashPrefix) as string;
      const insert = db.prepare(
        `INSERT INTO tasks (id, key_id, model, status, request_json, seed, results_json, extra_json, created_at, started_at, completed_at, progress_percent, version)
         VALUES (?, ?, 'wan2.7-t2v', 'TASK_STATUS_SUCCEED', ?, 7, ?, '{}', ?, ?, ?, 100, 3)`,
      );
      db.transaction(() => {
        for (const id of ids) insert.run(id, keyId, submitBody, results(id), now, now + 5, now + 60_000);
      })();
      // As a server that has been running leaves it: the rows in the database file, not the log.
      db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      db.close();
    }
    return ids;
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const keyId = (await client.query('SELECT id FROM api_keys WHERE prefix = $1', [keyHashPrefix])).rows[0].id as string;
    for (let start = 0; start < ids.length; start += 20_000) {
      await client.query(
        `INSERT INTO tasks (id, key_id, model, status, request_json, seed, results_json, extra_json, created_at, started_at, completed_at, progress_percent, version)
         SELECT id, $2, 'wan2.7-t2v', 'TASK_STATUS_SUCCEED', $3::jsonb, 7,
                jsonb_build_array(jsonb_build_object('key', 'videos/' || id || '/0.mp4', 'type', 'mp4')), '{}', $4::bigint, $4::bigint + 5, $4::bigint + 60000, 100, 3
         FROM unnest($1::text[]) AS id`,
        [ids.slice(start, start + 20_000), keyId, submitBody, now],
      );
    }
    await client.query('ANALYZE tasks');
  } finally {
    await client.end();
  }
  return ids;
}

interface Measured {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU time of the server process (every thread) per request answered, in µs. */
  serverCpuMicros: number;
  /** CPU time of the server's main thread (its event loop) per request answered, in µs. */
  eventLoopCpuMicros: number;
  /** CPU time of the load generator (this process) per request, in µs: the share of the machine the server did not get. */
  clientCpuMicros: number;
  /**
   * CPU time of this machine's PostgreSQL server (every process) per request, in µs: for the
   * PostgreSQL store when its server runs here; SQLite's is in the server process.
   */
  databaseCpuMicros: number | undefined;
}

/** Load on the server of process `pid` for `durationSeconds`. */
async function load(pid: number, options: autocannon.Options, durationSeconds = seconds, database = false): Promise<Measured> {
  const serverBefore = processUsage(pid).cpuMs;
  const eventLoopBefore = mainThreadCpuMs(pid);
  const databaseBefore = database ? databaseCpuMs() : undefined;
  const clientBefore = process.cpuUsage();
  const result = await autocannon({ connections, duration: durationSeconds, ...options });
  const client = process.cpuUsage(clientBefore);
  const answered = Math.max(1, result.requests.total);
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
    serverCpuMicros: ((processUsage(pid).cpuMs - serverBefore) * 1000) / answered,
    eventLoopCpuMicros: ((mainThreadCpuMs(pid) - eventLoopBefore) * 1000) / answered,
    clientCpuMicros: (client.user + client.system) / answered,
    databaseCpuMicros: databaseBefore === undefined ? undefined : ((databaseCpuMs()! - databaseBefore) * 1000) / answered,
  };
}

/** CPU time (ms) of every process of this machine's PostgreSQL server; undefined when none runs here. */
function databaseCpuMs(): number | undefined {
  let pids: string[];
  try {
    pids = execFileSync('pgrep', ['-x', 'postgres'], { encoding: 'utf8' }).trim().split('\n');
  } catch {
    return undefined;
  }
  let total = 0;
  for (const pid of pids) {
    try {
      total += processUsage(Number(pid)).cpuMs;
    } catch {
      // A backend that ended between the listing and the reading.
    }
  }
  return total;
}

function median(runs: Measured[]): Measured {
  const middle = percentile(runs.map((run) => run.requestsPerSecond), 0.5);
  return runs.find((run) => run.requestsPerSecond === middle)!;
}

interface Case {
  /** What BENCH_CASES calls it. */
  id: string;
  name: string;
  /** The requests of the case, sent alike to the server at `base` (ours or the bare one). */
  requests: (base: string) => autocannon.Options;
  /** Measured on the store floor too (store-floor.ts): a case whose every request needs the store (not the hot task, which a cache serves). */
  floor?: boolean;
}

const micros = (value: number | undefined) => (value === undefined ? '–' : value.toFixed(0));
const percent = (side: Measured, base: Measured) => `${((100 * side.requestsPerSecond) / base.requestsPerSecond).toFixed(0)}%`;

/** The machine's CPU time per request of a side: its server, its database, and autocannon, which share the cores. */
const machineMicros = (side: Measured) => side.serverCpuMicros + (side.databaseCpuMicros ?? 0) + side.clientCpuMicros;

/**
 * The rate a side's CPU per request allows, against the bare server's measured rate: with every
 * core of the machine busy, or its event loop busy all the time (one core at most), whichever
 * comes first. How far its work alone lets it go, whatever the waits between.
 */
const cpuBound = (side: Measured, bare: Measured) => {
  const rate = Math.min((availableParallelism() * 1e6) / machineMicros(side), 1e6 / side.eventLoopCpuMicros);
  return `${((100 * rate) / bare.requestsPerSecond).toFixed(0)}%`;
};

/** The share of the machine's cores a side kept busy, and of the time its event loop was. */
const busy = (side: Measured) =>
  `cores ${((100 * side.requestsPerSecond * machineMicros(side)) / 1e6 / availableParallelism()).toFixed(0)}%, ` +
  `event loop ${((100 * side.requestsPerSecond * side.eventLoopCpuMicros) / 1e6).toFixed(0)}%`;

interface Outcome {
  store: string;
  name: string;
  bare: Measured;
  ours: Measured;
  /** The store floor's median round, for the cases measured on it. */
  floor: Measured | undefined;
  /** Each round's ours / bare, in the order measured. */
  roundRatios: number[];
  load: number[];
}

async function measureStore(store: string): Promise<Outcome[]> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'wan-bench-'));
  const schema = store === 'postgres' ? await benchSchema() : undefined;
  const storeArgs = schema ? ['--database-url', schema.url] : [];
  const key = execFileSync(process.execPath, ['dist/cli/main.js', 'keys', 'create', '--data-dir', dataDir, ...storeArgs], { cwd: root }).toString().trim();
  const seedStart = performance.now();
  const ids = await seedTasks(dataDir, schema?.url, key.slice(0, 12));
  console.log(`${store}: ${ids.length} finished tasks written in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);
  // A folder per side: under tsx, the loader's thread writes a profile of its own beside the main one.
  const profile = (side: string) => (profileDir ? [`--cpu-prof`, `--cpu-prof-dir=${path.join(profileDir, `${store}-${side}`)}`] : []);
  // No worker: nothing renders during the load; the API alone is measured. No cap on queued
  // tasks either: without a worker the queue only grows, and every submission is to be stored,
  // not refused once the default cap is reached (admission is measured by bench:limits).
  const api = await startProcess(
    [...profile('ours'), ...serverArgs(dataDir, ['--worker-concurrency', '0', '--max-queued-tasks', '0', ...storeArgs])],
    listening,
  );
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const resultPath = (id: string) => `/v3/async/task-result?task_id=${id}`;
  const hot = ids[0];
  const sample = await fetch(`${api.value}${resultPath(hot)}`, { headers });
  const bare = await startBareServer(barePort, sample.clone(), profile('bare'));
  const floor = await startStoreFloor(floorPort, schema ? 'postgres' : 'sqlite', schema?.url ?? dataDir, sample, profile('floor'));
  // One sequence of random ids per side, from the same seed, drawn on through the rounds (a round
  // starting the sequence over would poll tasks the last round already read).
  const randomOf = new Map([api.value, bare.value, floor.value].map((base) => [base, seededRandom(seed)]));
  const allCases: Case[] = [
    { id: 'hot', name: 'task result, hot task', requests: (base) => ({ url: `${base}${resultPath(hot)}`, headers }) },
    {
      id: 'random',
      name: `task result, random of ${ids.length}`,
      requests: (base) => {
        const random = randomOf.get(base)!;
        return {
          url: base,
          headers,
          requests: [
            {
              setupRequest: (request) => {
                request.path = resultPath(ids[Math.floor(random() * ids.length)]);
                return request;
              },
            },
          ],
        };
      },
      floor: true,
    },
    {
      id: 'submit',
      name: 'submit t2v',
      requests: (base) => ({ url: `${base}/v3/async/wan2.7-t2v`, method: 'POST', headers, body: submitBody }),
      floor: true,
    },
  ];
  const cases = allCases.filter((entry) => caseNames.includes(entry.id));
  try {
    // Warm both sides of every case so the JIT is not measured.
    for (const entry of cases) {
      await load(bare.child.pid!, entry.requests(bare.value), 2);
      if (entry.floor) await load(floor.child.pid!, entry.requests(floor.value), 2);
      await load(api.child.pid!, entry.requests(api.value), 2);
    }
    const outcomes: Outcome[] = [];
    for (const entry of cases) {
      const bareRuns: Measured[] = [];
      const floorRuns: Measured[] = [];
      const ourRuns: Measured[] = [];
      const roundLoad: number[] = [];
      for (let round = 0; round < rounds; round++) {
        bareRuns.push(await load(bare.child.pid!, entry.requests(bare.value)));
        if (entry.floor) floorRuns.push(await load(floor.child.pid!, entry.requests(floor.value), seconds, schema !== undefined));
        ourRuns.push(await load(api.child.pid!, entry.requests(api.value), seconds, schema !== undefined));
        roundLoad.push(loadavg()[0]);
      }
      const outcome = {
        store,
        name: entry.name,
        bare: median(bareRuns),
        ours: median(ourRuns),
        floor: floorRuns.length > 0 ? median(floorRuns) : undefined,
        roundRatios: ourRuns.map((run, index) => run.requestsPerSecond / bareRuns[index].requestsPerSecond),
        load: roundLoad,
      };
      outcomes.push(outcome);
      console.log(
        `${store} | ${entry.name}: ours ${Math.round(outcome.ours.requestsPerSecond)} req/s, bare ${Math.round(outcome.bare.requestsPerSecond)} req/s, ` +
          `${(100 * outcome.ours.requestsPerSecond / outcome.bare.requestsPerSecond).toFixed(0)}%, rounds ${outcome.roundRatios.map((ratio) => `${(100 * ratio).toFixed(0)}%`).join(' ')}, ` +
          `CPU µs/request server ${micros(outcome.ours.serverCpuMicros)} / ${micros(outcome.bare.serverCpuMicros)} bare, ` +
          `autocannon ${micros(outcome.ours.clientCpuMicros)} / ${micros(outcome.bare.clientCpuMicros)}, database ${micros(outcome.ours.databaseCpuMicros)}, ` +
          `event loop ${micros(outcome.ours.eventLoopCpuMicros)} / ${micros(outcome.bare.eventLoopCpuMicros)}, busy ${busy(outcome.ours)} (bare ${busy(outcome.bare)}), ` +
          `CPU-bound ${cpuBound(outcome.ours, outcome.bare)} of bare, load ${roundLoad.map((value) => value.toFixed(1)).join(' ')}`,
      );
      if (outcome.floor) {
        console.log(
          `${store} | ${entry.name}, store floor: ${Math.round(outcome.floor.requestsPerSecond)} req/s, ${percent(outcome.floor, outcome.bare)} of bare (ours ${percent(outcome.ours, outcome.floor)} of it), ` +
            `rounds ${floorRuns.map((run, index) => percent(run, bareRuns[index])).join(' ')}, CPU µs/request server ${micros(outcome.floor.serverCpuMicros)}, database ${micros(outcome.floor.databaseCpuMicros)}, ` +
            `autocannon ${micros(outcome.floor.clientCpuMicros)}, event loop ${micros(outcome.floor.eventLoopCpuMicros)}, busy ${busy(outcome.floor)}, CPU-bound ${cpuBound(outcome.floor, outcome.bare)} of bare`,
        );
      }
    }
    return outcomes;
  } finally {
    await stop(bare.child);
    await stop(floor.child);
    await stop(api.child);
    await schema?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

console.log(`seed ${seed} (BENCH_SEED), ${rounds} alternating rounds of ${seconds} s per side, ${connections} connections, ${taskCount} tasks`);
const diskSync = diskSyncMicros(tmpdir());
console.log(`disk of the data directories: an 8 KiB write + fdatasync takes ${diskSync.p50} µs (p50), ${diskSync.p99} µs (p99)`);
const outcomes: Outcome[] = [];
for (const store of stores) outcomes.push(...(await measureStore(store)));

const targets: Record<string, number> = { 'task result, hot task': 0.7, [`task result, random of ${taskCount}`]: 0.5, 'submit t2v': 0.5 };
console.log(`\nmedians of ${rounds} alternating rounds (bare, [store floor,] ours, …) of ${seconds} s, ${connections} connections, autocannon on the same machine (${process.version}); ` +
  `1-minute load average at the end ${loadavg()[0].toFixed(2)}; a durable 8 KiB write on the data directories' disk ${diskSync.p50} µs (p50)\n`);
console.log('| store | case | ours req/s | ours p50 / p99 ms | bare req/s | bare p50 / p99 ms | ours / bare | target | ours / bare, CPU-bound | store floor / bare | ours / floor | server CPU µs/req, ours / bare | database CPU µs/req | errors |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const { store, name, ours, bare, floor } of outcomes) {
  const ratio = ours.requestsPerSecond / bare.requestsPerSecond;
  console.log(
    `| ${store === 'postgres' ? 'PostgreSQL' : 'SQLite'} | ${name} | ${Math.round(ours.requestsPerSecond)} | ${ours.p50} / ${ours.p99} | ` +
      `${Math.round(bare.requestsPerSecond)} | ${bare.p50} / ${bare.p99} | ${(100 * ratio).toFixed(0)}% | ≥ ${100 * targets[name]}% | ${cpuBound(ours, bare)} | ` +
      `${floor ? percent(floor, bare) : '–'} | ${floor ? percent(ours, floor) : '–'} | ` +
      `${micros(ours.serverCpuMicros)} / ${micros(bare.serverCpuMicros)} | ${micros(ours.databaseCpuMicros)} | ${ours.errors + bare.errors + (floor?.errors ?? 0)} |`,
  );
}
