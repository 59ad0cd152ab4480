/**
 * What the benchmarks share: the built server started as a child process, as users run it, with a
 * key made for it; the dispatch delay measured against it; and the percentile of a sample.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

export const root = path.resolve(import.meta.dirname, '..');

/** Starts `node <args>` and resolves once `ready` picks a value out of a stdout line. */
export function startProcess(
  args: string[],
  ready: (line: string) => string | undefined,
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; value: string }> {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const value = ready(line);
      if (value !== undefined) resolve({ child, value });
    });
  });
}

/**
 * The bare Fastify server (bare-server.ts) on `port`, answering its GET with the bytes of `sample`
 * (a response of ours): its body, and the headers every answer of ours carries (CORS).
 */
export function startBareServer(port: number, sample: Response, nodeArgs: string[] = []): Promise<{ child: ChildProcess; value: string }> {
  return startAnswering([...nodeArgs, 'bench/bare-server.ts', String(port)], port, sample);
}

/**
 * The store floor (store-floor.ts) on `port`: the bare server that first does the least the store
 * must (`postgres` at the url `location`, or `sqlite` in the data directory `location`); its
 * answers are the bare server's, from `sample` as startBareServer's are.
 */
export function startStoreFloor(
  port: number,
  store: 'postgres' | 'sqlite',
  location: string,
  sample: Response,
  nodeArgs: string[] = [],
): Promise<{ child: ChildProcess; value: string }> {
  return startAnswering([...nodeArgs, 'bench/store-floor.ts', String(port), store, location], port, sample);
}

/** Starts the script of `args` (tsx; Node's options first), listening on `port`, answering the body and fixed headers of `sample`. */
async function startAnswering(args: string[], port: number, sample: Response): Promise<{ child: ChildProcess; value: string }> {
  return startProcess(['--import', 'tsx', ...args], (line) => (line === 'listening' ? `http://127.0.0.1:${port}` : undefined), {
    BARE_GET_BODY: await sample.text(),
    BARE_HEADERS: fixedHeadersOf(sample),
  });
}

/** The headers every answer of ours carries whatever the request (CORS), as a JSON object. */
function fixedHeadersOf(sample: Response): string {
  return JSON.stringify(Object.fromEntries([...sample.headers].filter(([name]) => name.startsWith('access-control-'))));
}

export async function stop(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await once(child, 'exit');
}

export function serverArgs(dataDir: string, extra: string[]): string[] {
  return ['dist/cli/main.js', 'serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'info', ...extra];
}

export const listening = (line: string) => {
  try {
    const entry = JSON.parse(line);
    return entry.msg === 'wan-api listening' ? (entry.url as string) : undefined;
  } catch {
    return undefined;
  }
};

/** A new API key, made by the CLI in the store of the server on `dataDir` (and `storeArgs`). */
export function createKey(dataDir: string, storeArgs: string[] = []): string {
  return execFileSync(process.execPath, ['dist/cli/main.js', 'keys', 'create', '--data-dir', dataDir, ...storeArgs], { cwd: root }).toString().trim();
}

/** The headers of a JSON request made with `key`. */
export function jsonHeaders(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
}

export interface Server {
  url: string;
  pid: number;
  /** The headers of a JSON request with the server's key. */
  headers: Record<string, string>;
  stop(): Promise<void>;
}

/** The built server (`flags` added to its arguments) on a data directory of its own, with a key for it. */
export async function startServer(flags: string[]): Promise<Server> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'wan-bench-'));
  const key = createKey(dataDir);
  const api = await startProcess(serverArgs(dataDir, flags), listening);
  return {
    url: api.value,
    pid: api.child.pid!,
    headers: jsonHeaders(key),
    stop: async () => {
      await stop(api.child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A server with one task submitted: the task whose result a load reads. */
export type ServerWithTask = Server & { resultUrl: string };

/** startServer, then one t2v task (`body`, JSON) submitted to it. */
export async function serverWithTask(flags: string[], body: string): Promise<ServerWithTask> {
  const server = await startServer(flags);
  return { ...server, resultUrl: taskResultUrl(server.url, await submitT2v(server.url, server.headers, body)) };
}

/** The t2v request the load benchmarks submit. */
export const submitBody = JSON.stringify({ prompt: 'a paper boat drifting down a rainy street', size: '1280*720', duration: 5, seed: 7 });

/** Submits a t2v task (`body`, JSON) and answers its id. */
export async function submitT2v(url: string, headers: Record<string, string>, body: string): Promise<string> {
  return ((await (await fetch(`${url}/v3/async/wan2.7-t2v`, { method: 'POST', headers, body })).json()) as { task_id: string }).task_id;
}

export function taskResultUrl(url: string, taskId: string): string {
  return `${url}/v3/async/task-result?task_id=${taskId}`;
}

/**
 * Submission → engine start of `samples` t2v tasks, each submitted once the one before succeeded
 * (so a worker is idle for each), read from the task's own submit and execute times.
 */
export async function dispatchDelays(url: string, headers: Record<string, string>, samples: number): Promise<number[]> {
  const delays: number[] = [];
  for (let index = 0; index < samples; index++) {
    const taskId = await submitT2v(url, headers, JSON.stringify({ prompt: 'dispatch', size: '1280*720', duration: 2, seed: index }));
    for (;;) {
      const result = await (await fetch(taskResultUrl(url, taskId), { headers })).json();
      if (result.task.status === 'TASK_STATUS_SUCCEED') {
        delays.push(Number(result.extra.debug_info.execute_time_ms) - Number(result.extra.debug_info.submit_time_ms));
        break;
      }
      await sleep(50);
    }
  }
  return delays;
}

/** Resident memory (kB) and CPU time (ms, every thread) of a process, from /proc. */
export function processUsage(pid: number): { rssKb: number; cpuMs: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rssKb: Number(/VmRSS:\s+(\d+)/.exec(status)![1]), cpuMs: statCpuMs(`/proc/${pid}/stat`) };
}

/**
 * CPU time (ms) of the process's main thread alone: a Node server's event loop, which one core at
 * most can serve, whatever its other threads (the collector's, a store's) take.
 */
export function mainThreadCpuMs(pid: number): number {
  return statCpuMs(`/proc/${pid}/task/${pid}/stat`);
}

/** The user and system CPU time (ms) of a /proc `stat` file, a process's or a thread's. */
function statCpuMs(file: string): number {
  // The fields after the command name, which is in parentheses and may hold spaces.
  const fields = readFileSync(file, 'utf8').split(') ')[1].split(' ');
  // Linux counts CPU time in ticks of 1/100 s (USER_HZ) on every common architecture.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

export function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}

/** The median of repeated runs by requests per second, reported whole. */
export function medianRun<Run extends { requestsPerSecond: number }>(runs: Run[]): Run {
  const middle = percentile(runs.map((run) => run.requestsPerSecond), 0.5);
  return runs.find((run) => run.requestsPerSecond === middle)!;
}
