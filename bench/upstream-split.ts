/**
 * 5,000 tasks in flight on an upstream engine, split over two worker processes on one PostgreSQL
 * database, submitted through a third, API-only process; against a local provider of this API
 * that answers at once. Measured: how the tasks split, that each is followed by exactly one
 * process (every worker calls the upstream with a key of its own, so the upstream tells who asks
 * about which task), each worker's memory and CPU while all are in flight, and the delay from the
 * upstream finishing a task to our Task Result API saying TASK_STATUS_SUCCEED.
 *
 *   npm run bench:upstream-split [-- --tasks 5000 --hold-seconds 30]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { benchSchema } from './database.js';
import { createKey, jsonHeaders, listening, percentile, processUsage, serverArgs, startProcess, stop } from './processes.js';
import { startUpstream, submitTasks, succeeded, upstreamSettings } from './upstream.js';

const { taskCount, holdMs } = upstreamSettings();
const work = await mkdtemp(path.join(tmpdir(), 'wan-bench-split-'));
const upstream = await startUpstream(work, holdMs);

const schema = await benchSchema();
const dataDir = await mkdtemp(path.join(work, 'server-'));
const storeArgs = ['--database-url', schema.url];
/** Waits for the listening line, and shows the errors a process logs (a failed task's story) on stderr. */
const listeningShowingErrors = (line: string) => {
  if (/"level":(50|60)/.test(line)) console.error(line);
  return listening(line);
};
const key = createKey(dataDir, storeArgs);
const api = await startProcess(serverArgs(dataDir, [...storeArgs, ...upstream.engineArgs('api', taskCount), '--worker-concurrency', '0']), listeningShowingErrors);
const workerKeys = ['worker-a', 'worker-b'];
const workers = await Promise.all(
  workerKeys.map((name) => startProcess(serverArgs(dataDir, [...storeArgs, ...upstream.engineArgs(name, taskCount), '--worker-only', '--public-url', api.value]), listeningShowingErrors)),
);
const headers = jsonHeaders(key);

/** CPU per second of each worker over `windowMs`. */
async function cpuOver(windowMs: number): Promise<number[]> {
  const before = workers.map((worker) => processUsage(worker.child.pid!));
  await sleep(windowMs);
  const after = workers.map((worker) => processUsage(worker.child.pid!));
  return after.map((sample, index) => ((sample.cpuMs - before[index].cpuMs) * 1000) / windowMs);
}

try {
  const idleCpu = await cpuOver(3000);
  const idleRss = workers.map((worker) => processUsage(worker.child.pid!).rssKb);

  const ids = await submitTasks(api.value, headers, taskCount);
  while (upstream.tasks.size < taskCount) await sleep(100);
  const firstFinish = Math.min(...[...upstream.tasks.values()].map((task) => task.finishesAt));
  const pollsBefore = workerKeys.map((name) => upstream.pollsBy.get(name) ?? 0);
  const windowMs = Math.max(2000, firstFinish - Date.now() - 1000);
  const loadedCpu = await cpuOver(windowMs);
  const pollsPerSecond = workerKeys.map((name, index) => (((upstream.pollsBy.get(name) ?? 0) - pollsBefore[index]) * 1000) / windowMs);
  const inFlightRss = workers.map((worker) => processUsage(worker.child.pid!).rssKb);

  const delays: number[] = [];
  for (const id of ids) {
    const result = await succeeded(api.value, headers, id);
    delays.push(Number(result.extra.debug_info.complete_time_ms) - upstream.tasks.get(String(result.extra.upstream_task_id))!.finishesAt);
  }

  const accepted = workerKeys.map((name) => [...upstream.tasks.values()].filter((task) => task.acceptedBy === name).length);
  const followedByOne = [...upstream.tasks.values()].filter((task) => task.polledBy.size === 1 && task.polledBy.has(task.acceptedBy)).length;
  console.log(`\n${taskCount} t2v tasks submitted to an API-only process, run by two worker processes on PostgreSQL, upstream holding each ${holdMs / 1000} s (${process.version})\n`);
  console.log('| worker | tasks accepted upstream | memory idle → in flight | CPU ms/s idle → in flight | upstream checks/s |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const [index, name] of workerKeys.entries()) {
    console.log(
      `| ${name} | ${accepted[index]} | ${(idleRss[index] / 1024).toFixed(0)} → ${(inFlightRss[index] / 1024).toFixed(0)} MB | ` +
        `${idleCpu[index].toFixed(1)} → ${loadedCpu[index].toFixed(1)} | ${pollsPerSecond[index].toFixed(0)} |`,
    );
  }
  console.log(`\ntasks followed by exactly one process, the one that started them: ${followedByOne} of ${upstream.tasks.size}`);
  console.log(
    `upstream finished → our TASK_STATUS_SUCCEED: p50 ${(percentile(delays, 0.5) / 1000).toFixed(2)} s, p95 ${(percentile(delays, 0.95) / 1000).toFixed(2)} s, ` +
      `max ${(Math.max(...delays) / 1000).toFixed(2)} s`,
  );
} finally {
  await Promise.all(workers.map((worker) => stop(worker.child)));
  await stop(api.child);
  upstream.close();
  await schema.drop();
  await rm(work, { recursive: true, force: true });
}
