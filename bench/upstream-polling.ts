/**
 * 5,000 tasks in flight on an upstream engine through one server process, against a local
 * provider of this API that answers at once: the memory each in-flight task costs, the CPU the
 * polling costs per second (against the same process idle, in the same run), and the delay
 * between the upstream finishing a task and our Task Result API saying TASK_STATUS_SUCCEED.
 *
 *   npm run bench:upstream [-- --tasks 5000 --hold-seconds 30]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKey, jsonHeaders, listening, percentile, processUsage, serverArgs, startProcess, stop, submitT2v } from './processes.js';
import { startUpstream, submitTasks, succeeded, upstreamSettings } from './upstream.js';

const { taskCount, holdMs } = upstreamSettings();
const work = await mkdtemp(path.join(tmpdir(), 'wan-bench-upstream-'));
const upstream = await startUpstream(work, holdMs);
const upstreamKey = 'bench-key';
const polls = () => upstream.pollsBy.get(upstreamKey) ?? 0;

const dataDir = await mkdtemp(path.join(work, 'server-'));
const key = createKey(dataDir);
const api = await startProcess(serverArgs(dataDir, upstream.engineArgs(upstreamKey, taskCount)), listening);
const headers = jsonHeaders(key);
const pid = api.child.pid!;

async function cpuOver(windowMs: number): Promise<{ cpuMsPerSecond: number; pollsPerSecond: number }> {
  const [before, pollsBefore] = [processUsage(pid), polls()];
  await sleep(windowMs);
  const after = processUsage(pid);
  return { cpuMsPerSecond: ((after.cpuMs - before.cpuMs) * 1000) / windowMs, pollsPerSecond: ((polls() - pollsBefore) * 1000) / windowMs };
}

try {
  // Warm up: one task end to end, so the measured idle state has every module loaded.
  const warm = await submitT2v(api.value, headers, JSON.stringify({ prompt: 'warm up', duration: 5 }));
  const idle = await cpuOver(5000);
  const idleRss = processUsage(pid).rssKb;

  const ids = await submitTasks(api.value, headers, taskCount);
  while (upstream.tasks.size < taskCount + 1) await sleep(100);
  // Every task polled, none finished: measured until a second before the first one finishes.
  const firstFinish = Math.min(...[...upstream.tasks.values()].slice(1).map((task) => task.finishesAt));
  const loaded = await cpuOver(Math.max(2000, firstFinish - Date.now() - 1000));
  const inFlightRss = processUsage(pid).rssKb;

  const delays: number[] = [];
  const downloads: number[] = [];
  for (const id of [...ids, warm]) {
    const result = await succeeded(api.value, headers, id);
    const upstreamTask = upstream.tasks.get(String(result.extra.upstream_task_id))!;
    delays.push(Number(result.extra.debug_info.complete_time_ms) - upstreamTask.finishesAt);
    downloads.push(upstreamTask.downloadEndedAt! - upstreamTask.downloadStartedAt!);
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
