/**
 * 5,000 tasks in flight on an upstream engine through one server process, against a local
 * provider of this API that answers at once: the memory each in-flight task costs, the CPU the
 * polling costs per second (against the same process idle, in the same run), and the delay
 * between the upstream finishing a task and our Task Result API saying TASK_STATUS_SUCCEED.
 *
 *   npm run bench:upstream [-- --tasks 5000 --hold-seconds 30]
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
import { listening, percentile, root, serverArgs, startProcess, stop } from './processes.js';

const { values } = parseArgs({ options: { tasks: { type: 'string', default: '5000' }, 'hold-seconds': { type: 'string', default: '30' } } });
const taskCount = Number(values.tasks);
const holdMs = Number(values['hold-seconds']) * 1000;
const work = await mkdtemp(path.join(tmpdir(), 'wan-bench-upstream-'));
const toolchain = await resolveFfmpeg();
const videoFile = path.join(work, 'result.mp4');
await runFfmpeg(toolchain.ffmpegPath, ['-y', '-f', 'lavfi', '-i', 'testsrc2=s=320x240:d=1', '-c:v', 'libx264', '-preset', 'ultrafast', videoFile]);
const video = await readFile(videoFile);

/** The upstream: accepts every task, reports it PROCESSING for `holdMs`, then SUCCEED. */
const upstreamTasks = new Map<string, { finishesAt: number; downloadStartedAt?: number; downloadEndedAt?: number }>();
let polls = 0;
let nextId = 0;
const upstream = createServer((request: IncomingMessage, response: ServerResponse) => {
  const url = new URL(request.url ?? '/', 'http://upstream');
  const json = (body: unknown) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  if (request.method === 'POST' && url.pathname.startsWith('/v3/async/')) {
    request.resume();
    const id = `up-${nextId++}`;
    upstreamTasks.set(id, { finishesAt: Date.now() + holdMs });
    return request.on('end', () => json({ task_id: id }));
  }
  if (url.pathname === '/v3/async/task-result') {
    polls++;
    const id = url.searchParams.get('task_id')!;
    const done = Date.now() >= upstreamTasks.get(id)!.finishesAt;
    return json({
      task: { task_id: id, task_type: 'WAN_2_7_T2V', status: done ? 'TASK_STATUS_SUCCEED' : 'TASK_STATUS_PROCESSING', reason: '', eta: 0, progress_percent: done ? 100 : 50 },
      images: [],
      videos: done ? [{ video_url: `http://127.0.0.1:${port}/videos/${id}.mp4`, video_url_ttl: '3600', video_type: 'mp4' }] : [],
      audios: [],
      extra: {},
    });
  }
  const task = upstreamTasks.get(path.basename(url.pathname, '.mp4'))!;
  task.downloadStartedAt = Date.now();
  response.writeHead(200, { 'content-type': 'video/mp4' }).end(video, () => (task.downloadEndedAt = Date.now()));
});
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const { port } = upstream.address() as AddressInfo;

const dataDir = await mkdtemp(path.join(work, 'server-'));
const key = execFileSync(process.execPath, ['dist/cli/main.js', 'keys', 'create', '--data-dir', dataDir], { cwd: root }).toString().trim();
const api = await startProcess(
  serverArgs(dataDir, [
    '--routes', '*=novita', '--novita-api-key', 'bench-key', '--novita-base-url', `http://127.0.0.1:${port}`,
    '--upstream-capacity', String(taskCount), '--media-allow-ranges', '127.0.0.1/32',
  ]),
  listening,
);
const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
const pid = api.child.pid!;

/** Resident memory (kB) and CPU time (ms) of the server process, from /proc. */
async function usage(): Promise<{ rssKb: number; cpuMs: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssKb: Number(/VmRSS:\s+(\d+)/.exec(status)![1]), cpuMs: (ticks * 1000) / 100 };
}

async function cpuOver(windowMs: number): Promise<{ cpuMsPerSecond: number; pollsPerSecond: number }> {
  const [before, pollsBefore] = [await usage(), polls];
  await sleep(windowMs);
  const after = await usage();
  return { cpuMsPerSecond: ((after.cpuMs - before.cpuMs) * 1000) / windowMs, pollsPerSecond: ((polls - pollsBefore) * 1000) / windowMs };
}

try {
  // Warm up: one task end to end, so the measured idle state has every module loaded.
  const warm = await (await fetch(`${api.value}/v3/async/wan2.7-t2v`, { method: 'POST', headers, body: JSON.stringify({ prompt: 'warm up', duration: 5 }) })).json();
  const idle = await cpuOver(5000);
  const idleRss = (await usage()).rssKb;

  const ids: string[] = [];
  const submitting = Array.from({ length: 32 }, async () => {
    while (ids.length < taskCount) {
      ids.push('');
      const slot = ids.length - 1;
      const body = JSON.stringify({ prompt: `task ${slot}`, duration: 5, seed: slot });
      ids[slot] = (await (await fetch(`${api.value}/v3/async/wan2.7-t2v`, { method: 'POST', headers, body })).json()).task_id;
    }
  });
  await Promise.all(submitting);
  while (upstreamTasks.size < taskCount + 1) await sleep(100);
  // Every task polled, none finished: measured until a second before the first one finishes.
  const firstFinish = Math.min(...[...upstreamTasks.values()].slice(1).map((task) => task.finishesAt));
  const loaded = await cpuOver(Math.max(2000, firstFinish - Date.now() - 1000));
  const inFlightRss = (await usage()).rssKb;

  const delays: number[] = [];
  const downloads: number[] = [];
  for (const id of [...ids, warm.task_id]) {
    for (;;) {
      const result = await (await fetch(`${api.value}/v3/async/task-result?task_id=${id}`, { headers })).json();
      if (result.task.status === 'TASK_STATUS_FAILED') throw new Error(`${id} failed: ${result.task.reason}`);
      if (result.task.status === 'TASK_STATUS_SUCCEED') {
        const upstreamTask = upstreamTasks.get(String(result.extra.upstream_task_id))!;
        delays.push(Number(result.extra.debug_info.complete_time_ms) - upstreamTask.finishesAt);
        downloads.push(upstreamTask.downloadEndedAt! - upstreamTask.downloadStartedAt!);
        break;
      }
      await sleep(500);
    }
  }

  console.log(`\n${taskCount} t2v tasks in flight on the novita engine, upstream on loopback holding each ${holdMs / 1000} s (${process.version})\n`);
  console.log('| measure | idle server | 5,000 in flight |');
  console.log('| --- | ---: | ---: |');
  console.log(`| resident memory | ${(idleRss / 1024).toFixed(0)} MB | ${(inFlightRss / 1024).toFixed(0)} MB |`);
  console.log(`| CPU time per second | ${idle.cpuMsPerSecond.toFixed(1)} ms | ${loaded.cpuMsPerSecond.toFixed(1)} ms |`);
  console.log(`| upstream checks per second | ${idle.pollsPerSecond.toFixed(0)} | ${loaded.pollsPerSecond.toFixed(0)} |`);
  console.log(`\nmemory per in-flight task: ${(((inFlightRss - idleRss) * 1024) / taskCount / 1024).toFixed(1)} kB`);
  console.log(`CPU per upstream check: ${((loaded.cpuMsPerSecond - idle.cpuMsPerSecond) / loaded.pollsPerSecond).toFixed(3)} ms`);
  console.log(
    `upstream finished → our TASK_STATUS_SUCCEED: p50 ${(percentile(delays, 0.5) / 1000).toFixed(2)} s, p95 ${(percentile(delays, 0.95) / 1000).toFixed(2)} s, ` +
      `max ${(Math.max(...delays) / 1000).toFixed(2)} s (target < poll interval 10 s + download; download p95 ${percentile(downloads, 0.95)} ms)`,
  );
} finally {
  await stop(api.child);
  upstream.close();
  await rm(work, { recursive: true, force: true });
}
