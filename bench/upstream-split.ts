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
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { resolveFfmpeg } from '../src/media/ffmpeg-binaries.js';
import { runFfmpeg } from '../src/media/run-ffmpeg.js';
import { benchSchema } from './database.js';
import { listening, percentile, root, serverArgs, startProcess, stop } from './processes.js';

const { values } = parseArgs({ options: { tasks: { type: 'string', default: '5000' }, 'hold-seconds': { type: 'string', default: '30' } } });
const taskCount = Number(values.tasks);
const holdMs = Number(values['hold-seconds']) * 1000;
const work = await mkdtemp(path.join(tmpdir(), 'wan-bench-split-'));
const toolchain = await resolveFfmpeg();
const videoFile = path.join(work, 'result.mp4');
await runFfmpeg(toolchain.ffmpegPath, ['-y', '-f', 'lavfi', '-i', 'testsrc2=s=320x240:d=1', '-c:v', 'libx264', '-preset', 'ultrafast', videoFile]);
const video = await readFile(videoFile);

/** The upstream: accepts every task, reports it PROCESSING for `holdMs`, then SUCCEED; notes who asks. */
const upstreamTasks = new Map<string, { finishesAt: number; acceptedBy: string; polledBy: Set<string> }>();
const pollsBy = new Map<string, number>();
let nextId = 0;
const upstream = createServer((request: IncomingMessage, response: ServerResponse) => {
  const url = new URL(request.url ?? '/', 'http://upstream');
  const caller = String(request.headers.authorization ?? '').replace(/^Bearer /, '');
  const json = (body: unknown) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  if (request.method === 'POST' && url.pathname.startsWith('/v3/async/')) {
    request.resume();
    const id = `up-${nextId++}`;
    upstreamTasks.set(id, { finishesAt: Date.now() + holdMs, acceptedBy: caller, polledBy: new Set() });
    return request.on('end', () => json({ task_id: id }));
  }
  if (url.pathname === '/v3/async/task-result') {
    const id = url.searchParams.get('task_id')!;
    const task = upstreamTasks.get(id)!;
    task.polledBy.add(caller);
    pollsBy.set(caller, (pollsBy.get(caller) ?? 0) + 1);
    const done = Date.now() >= task.finishesAt;
    return json({
      task: { task_id: id, task_type: 'WAN_2_7_T2V', status: done ? 'TASK_STATUS_SUCCEED' : 'TASK_STATUS_PROCESSING', reason: '', eta: 0, progress_percent: done ? 100 : 50 },
      images: [],
      videos: done ? [{ video_url: `http://127.0.0.1:${port}/videos/${id}.mp4`, video_url_ttl: '3600', video_type: 'mp4' }] : [],
      audios: [],
      extra: {},
    });
  }
  response.writeHead(200, { 'content-type': 'video/mp4' }).end(video);
});
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const { port } = upstream.address() as AddressInfo;

const schema = await benchSchema();
const dataDir = await mkdtemp(path.join(work, 'server-'));
const storeArgs = ['--database-url', schema.url];
const cloudArgs = (key: string) => [
  '--routes', '*=novita', '--novita-api-key', key, '--novita-base-url', `http://127.0.0.1:${port}`,
  '--upstream-capacity', String(taskCount), '--media-allow-ranges', '127.0.0.1/32',
];
/** Waits for the listening line, and shows the errors a process logs (a failed task's story) on stderr. */
const listeningShowingErrors = (line: string) => {
  if (/"level":(50|60)/.test(line)) console.error(line);
  return listening(line);
};
const key = execFileSync(process.execPath, ['dist/cli/main.js', 'keys', 'create', ...storeArgs], { cwd: root }).toString().trim();
const api = await startProcess(serverArgs(dataDir, [...storeArgs, ...cloudArgs('api'), '--worker-concurrency', '0']), listeningShowingErrors);
const workerKeys = ['worker-a', 'worker-b'];
const workers = await Promise.all(
  workerKeys.map((name) => startProcess(serverArgs(dataDir, [...storeArgs, ...cloudArgs(name), '--worker-only', '--public-url', api.value]), listeningShowingErrors)),
);
const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

/** Resident memory (kB) and CPU time (ms) of a process, from /proc. */
async function usage(pid: number): Promise<{ rssKb: number; cpuMs: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  return { rssKb: Number(/VmRSS:\s+(\d+)/.exec(status)![1]), cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / 100 };
}

/** CPU per second of each worker over `windowMs`. */
async function cpuOver(windowMs: number): Promise<number[]> {
  const before = await Promise.all(workers.map((worker) => usage(worker.child.pid!)));
  await sleep(windowMs);
  const after = await Promise.all(workers.map((worker) => usage(worker.child.pid!)));
  return after.map((sample, index) => ((sample.cpuMs - before[index].cpuMs) * 1000) / windowMs);
}

try {
  const idleCpu = await cpuOver(3000);
  const idleRss = await Promise.all(workers.map(async (worker) => (await usage(worker.child.pid!)).rssKb));

  const ids: string[] = [];
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (ids.length < taskCount) {
        ids.push('');
        const slot = ids.length - 1;
        const body = JSON.stringify({ prompt: `task ${slot}`, duration: 5, seed: slot });
        ids[slot] = (await (await fetch(`${api.value}/v3/async/wan2.7-t2v`, { method: 'POST', headers, body })).json()).task_id;
      }
    }),
  );
  while (upstreamTasks.size < taskCount) await sleep(100);
  const firstFinish = Math.min(...[...upstreamTasks.values()].map((task) => task.finishesAt));
  const pollsBefore = workerKeys.map((name) => pollsBy.get(name) ?? 0);
  const windowMs = Math.max(2000, firstFinish - Date.now() - 1000);
  const loadedCpu = await cpuOver(windowMs);
  const pollsPerSecond = workerKeys.map((name, index) => (((pollsBy.get(name) ?? 0) - pollsBefore[index]) * 1000) / windowMs);
  const inFlightRss = await Promise.all(workers.map(async (worker) => (await usage(worker.child.pid!)).rssKb));

  const delays: number[] = [];
  for (const id of ids) {
    for (;;) {
      const result = await (await fetch(`${api.value}/v3/async/task-result?task_id=${id}`, { headers })).json();
      if (result.task.status === 'TASK_STATUS_FAILED') throw new Error(`${id} failed: ${result.task.reason}`);
      if (result.task.status === 'TASK_STATUS_SUCCEED') {
        delays.push(Number(result.extra.debug_info.complete_time_ms) - upstreamTasks.get(String(result.extra.upstream_task_id))!.finishesAt);
        break;
      }
      await sleep(500);
    }
  }

  const accepted = workerKeys.map((name) => [...upstreamTasks.values()].filter((task) => task.acceptedBy === name).length);
  const followedByOne = [...upstreamTasks.values()].filter((task) => task.polledBy.size === 1 && task.polledBy.has(task.acceptedBy)).length;
  console.log(`\n${taskCount} t2v tasks submitted to an API-only process, run by two worker processes on PostgreSQL, upstream holding each ${holdMs / 1000} s (${process.version})\n`);
  console.log('| worker | tasks accepted upstream | memory idle → in flight | CPU ms/s idle → in flight | upstream checks/s |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const [index, name] of workerKeys.entries()) {
    console.log(
      `| ${name} | ${accepted[index]} | ${(idleRss[index] / 1024).toFixed(0)} → ${(inFlightRss[index] / 1024).toFixed(0)} MB | ` +
        `${idleCpu[index].toFixed(1)} → ${loadedCpu[index].toFixed(1)} | ${pollsPerSecond[index].toFixed(0)} |`,
    );
  }
  console.log(`\ntasks followed by exactly one process, the one that started them: ${followedByOne} of ${upstreamTasks.size}`);
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
