/**
 * What the upstream benchmarks share: their settings (`--tasks`, `--hold-seconds`); the upstream
 * they run tasks on, a local provider of this API on loopback that answers at once; and the tasks
 * submitted to our server and read back from it.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { resolveFfmpeg } from '../src/media/ffmpeg-binaries.js';
import { runFfmpeg } from '../src/media/run-ffmpeg.js';
import { submitT2v, taskResultUrl } from './processes.js';

export function upstreamSettings(): { taskCount: number; holdMs: number } {
  const { values } = parseArgs({ options: { tasks: { type: 'string', default: '5000' }, 'hold-seconds': { type: 'string', default: '30' } } });
  return { taskCount: Number(values.tasks), holdMs: Number(values['hold-seconds']) * 1000 };
}

export interface UpstreamTask {
  finishesAt: number;
  /** The API key the task was submitted with. */
  acceptedBy: string;
  /** The API keys it was asked about with. */
  polledBy: Set<string>;
  downloadStartedAt?: number;
  downloadEndedAt?: number;
}

export interface Upstream {
  tasks: Map<string, UpstreamTask>;
  /** Task Result requests by API key. */
  pollsBy: Map<string, number>;
  /** The server arguments that run every model on this upstream, called with `key`, `capacity` tasks at once. */
  engineArgs(key: string, capacity: number): string[];
  close(): void;
}

/**
 * The upstream: accepts every task, reports it PROCESSING for `holdMs`, then SUCCEED with a
 * one-second video (made in `work`); notes who submits and asks about each task, and when its
 * video is downloaded.
 */
export async function startUpstream(work: string, holdMs: number): Promise<Upstream> {
  const toolchain = await resolveFfmpeg();
  const videoFile = path.join(work, 'result.mp4');
  await runFfmpeg(toolchain.ffmpegPath, ['-y', '-f', 'lavfi', '-i', 'testsrc2=s=320x240:d=1', '-c:v', 'libx264', '-preset', 'ultrafast', videoFile]);
  const video = await readFile(videoFile);
  const tasks = new Map<string, UpstreamTask>();
  const pollsBy = new Map<string, number>();
  let nextId = 0;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://upstream');
    const caller = String(request.headers.authorization ?? '').replace(/^Bearer /, '');
    const json = (body: unknown) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (request.method === 'POST' && url.pathname.startsWith('/v3/async/')) {
      request.resume();
      const id = `up-${nextId++}`;
      tasks.set(id, { finishesAt: Date.now() + holdMs, acceptedBy: caller, polledBy: new Set() });
      return request.on('end', () => json({ task_id: id }));
    }
    if (url.pathname === '/v3/async/task-result') {
      const id = url.searchParams.get('task_id')!;
      const task = tasks.get(id)!;
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
    const task = tasks.get(path.basename(url.pathname, '.mp4'))!;
    task.downloadStartedAt = Date.now();
    response.writeHead(200, { 'content-type': 'video/mp4' }).end(video, () => (task.downloadEndedAt = Date.now()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    tasks,
    pollsBy,
    engineArgs: (key, capacity) => [
      '--routes', '*=novita', '--novita-api-key', key, '--novita-base-url', `http://127.0.0.1:${port}`,
      '--upstream-capacity', String(capacity), '--media-allow-ranges', '127.0.0.1/32',
    ],
    close: () => server.close(),
  };
}

/** Submits `count` t2v tasks to our server at `url`, 32 at a time; answers their ids in order. */
export async function submitTasks(url: string, headers: Record<string, string>, count: number): Promise<string[]> {
  const ids: string[] = [];
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (ids.length < count) {
        ids.push('');
        const slot = ids.length - 1;
        ids[slot] = await submitT2v(url, headers, JSON.stringify({ prompt: `task ${slot}`, duration: 5, seed: slot }));
      }
    }),
  );
  return ids;
}

/** Reads the task every 500 ms until it succeeded, and answers its Task Result; a failed task is an error. */
export async function succeeded(url: string, headers: Record<string, string>, taskId: string) {
  for (;;) {
    const result = await (await fetch(taskResultUrl(url, taskId), { headers })).json();
    if (result.task.status === 'TASK_STATUS_FAILED') throw new Error(`${taskId} failed: ${result.task.reason}`);
    if (result.task.status === 'TASK_STATUS_SUCCEED') return result;
    await sleep(500);
  }
}
