/**
 * The API on PostgreSQL against the API on SQLite, and what a second process adds, in one run on
 * this machine (the database server, the processes and the load generator share its 2 cores):
 *
 * - submit and task-result throughput and latency: one API process on SQLite, one on PostgreSQL,
 *   and two on PostgreSQL with the load split between them; interleaved rounds, medians reported;
 * - dispatch across processes: a task submitted to an API-only process and started by an idle
 *   worker-only one (LISTEN/NOTIFY), against the same within one SQLite process.
 *
 *   npm run bench:scale        (BENCH_SECONDS, BENCH_ROUNDS, BENCH_CONNECTIONS as for npm run bench)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { benchSchema } from './database.js';
import { createKey, dispatchDelays, jsonHeaders, listening, medianRun, percentile, serverArgs, startProcess, stop, submitBody, submitT2v } from './processes.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const dispatchSamples = 20;

interface Deployment {
  name: string;
  urls: string[];
  key: string;
  taskId: string;
  close: () => Promise<void>;
}

/** `processes` API-only servers on one store (PostgreSQL when `postgres`, else SQLite), and a task to read. */
async function deploy(name: string, postgres: boolean, processes: number): Promise<Deployment> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'wan-bench-'));
  const schema = postgres ? await benchSchema() : undefined;
  const storeArgs = schema ? ['--database-url', schema.url] : [];
  const key = createKey(dataDir, storeArgs);
  const children: Awaited<ReturnType<typeof startProcess>>[] = [];
  for (let index = 0; index < processes; index++) {
    children.push(await startProcess(serverArgs(dataDir, ['--worker-concurrency', '0', ...storeArgs]), listening));
  }
  const taskId = await submitT2v(children[0].value, jsonHeaders(key), submitBody);
  return {
    name,
    urls: children.map((child) => child.value),
    key,
    taskId,
    close: async () => {
      await Promise.all(children.map((child) => stop(child.child)));
      await schema?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

interface Measured {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

/** The load split evenly over the deployment's processes at once; p50 and p99 of the slowest process. */
async function load(deployment: Deployment, endpoint: 'submit' | 'result', durationSeconds = seconds): Promise<Measured> {
  const headers = jsonHeaders(deployment.key);
  const results = await Promise.all(
    deployment.urls.map((url) =>
      autocannon({
        connections: Math.max(1, Math.round(connections / deployment.urls.length)),
        duration: durationSeconds,
        ...(endpoint === 'submit'
          ? { url: `${url}/v3/async/wan2.7-t2v`, method: 'POST' as const, headers, body: submitBody }
          : { url: `${url}/v3/async/task-result?task_id=${deployment.taskId}`, headers }),
      }),
    ),
  );
  return {
    requestsPerSecond: results.reduce((sum, result) => sum + result.requests.average, 0),
    p50: Math.max(...results.map((result) => result.latency.p50)),
    p99: Math.max(...results.map((result) => result.latency.p99)),
    errors: results.reduce((sum, result) => sum + result.errors + result.non2xx, 0),
  };
}

async function throughput(): Promise<{ name: string; submit: Measured; result: Measured }[]> {
  const deployments = [await deploy('SQLite, 1 API process', false, 1), await deploy('PostgreSQL, 1 API process', true, 1), await deploy('PostgreSQL, 2 API processes', true, 2)];
  try {
    for (const deployment of deployments) for (const endpoint of ['submit', 'result'] as const) await load(deployment, endpoint, 2);
    const runs = deployments.map(() => ({ submit: [] as Measured[], result: [] as Measured[] }));
    for (let round = 0; round < rounds; round++) {
      for (const [index, deployment] of deployments.entries()) {
        for (const endpoint of ['submit', 'result'] as const) runs[index][endpoint].push(await load(deployment, endpoint));
      }
    }
    return deployments.map((deployment, index) => ({ name: deployment.name, submit: medianRun(runs[index].submit), result: medianRun(runs[index].result) }));
  } finally {
    for (const deployment of deployments) await deployment.close();
  }
}

/** Submission → engine start of `dispatchSamples` tasks, each submitted once the worker is idle again. */
async function dispatch(postgres: boolean): Promise<number[]> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'wan-bench-'));
  const schema = postgres ? await benchSchema() : undefined;
  const storeArgs = schema ? ['--database-url', schema.url] : [];
  const key = createKey(dataDir, storeArgs);
  // PostgreSQL: the API in one process, the worker in another. SQLite: both in one process.
  const api = await startProcess(serverArgs(dataDir, [...storeArgs, '--worker-concurrency', postgres ? '0' : '1']), listening);
  const worker = postgres ? await startProcess(serverArgs(dataDir, [...storeArgs, '--worker-only', '--worker-concurrency', '1']), listening) : undefined;
  try {
    return await dispatchDelays(api.value, jsonHeaders(key), dispatchSamples);
  } finally {
    if (worker) await stop(worker.child);
    await stop(api.child);
    await schema?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const measured = await throughput();
const sqliteDispatch = await dispatch(false);
const postgresDispatch = await dispatch(true);

console.log(`\nmedian of ${rounds} interleaved ${seconds} s rounds, ${connections} connections in all, autocannon on the same machine (${process.version})\n`);
console.log('| deployment | submit req/s | p50 / p99 ms | task result req/s | p50 / p99 ms | errors |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const { name, submit, result } of measured) {
  console.log(
    `| ${name} | ${Math.round(submit.requestsPerSecond)} | ${submit.p50} / ${submit.p99} | ${Math.round(result.requestsPerSecond)} | ${result.p50} / ${result.p99} | ${submit.errors + result.errors} |`,
  );
}
const [sqlite, postgres, two] = measured;
const ratio = (a: Measured, b: Measured) => `${(100 * (a.requestsPerSecond / b.requestsPerSecond)).toFixed(0)}%`;
console.log(`\nPostgreSQL / SQLite, one process: submit ${ratio(postgres.submit, sqlite.submit)}, task result ${ratio(postgres.result, sqlite.result)}`);
console.log(`two / one PostgreSQL API processes: submit ${ratio(two.submit, postgres.submit)}, task result ${ratio(two.result, postgres.result)}`);
const describe = (delays: number[]) => `p50 ${percentile(delays, 0.5)} ms, p95 ${percentile(delays, 0.95)} ms, max ${Math.max(...delays)} ms`;
console.log(`dispatch, submit → engine start, idle worker, ${dispatchSamples} tasks:`);
console.log(`  SQLite, API and worker in one process: ${describe(sqliteDispatch)}`);
console.log(`  PostgreSQL, API process → worker process: ${describe(postgresDispatch)} (target < 50 ms)`);
