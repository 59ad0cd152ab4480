import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/**
 * How the kernel schedules a child process, beyond its niceness: what a long CPU-bound job
 * (a render) needs so that the API server on the same machine answers as if it were not there.
 */
export interface CpuScheduling {
  /**
   * Run in the SCHED_IDLE class: the process gets a CPU only when no normal process wants one,
   * and a waking normal process takes the CPU from it at once. Niceness alone (even 19) only
   * shrinks its share: a waking process may still wait for its slice to end.
   */
  idle?: boolean;
  /**
   * The CPUs (ids, as the kernel numbers them) the process and every thread it starts may run on.
   * Confines its parallelism without changing its thread count: ffmpeg sizes its automatic thread
   * pools by this set, and an encoder told to run 4 threads still runs 4, on these CPUs.
   */
  cpus?: readonly number[];
}

/** util-linux's `chrt` and `taskset`: each sets its policy on itself, then runs the command in its place. */
const idleLauncher = ['chrt', '--idle', '--', '0'];
const pinLauncher = (cpus: readonly number[]) => ['taskset', '--cpu-list', '--', cpus.join(',')];

let idleWorks: Promise<boolean> | undefined;
let pinningWorks: Promise<boolean> | undefined;

/**
 * The command line that runs `command` with `args` as `scheduling` asks, through `taskset` and
 * `chrt` where they work (Linux with util-linux, found on PATH; each tried once); what cannot be
 * applied is left out, and the command runs as it would have. The pid of the spawned process is
 * the command's: each launcher replaces itself with the next.
 */
export async function scheduledCommand(command: string, args: readonly string[], scheduling: CpuScheduling): Promise<[string, string[]]> {
  let line = [command, ...args];
  if (scheduling.cpus && scheduling.cpus.length > 0) {
    pinningWorks ??= launcherWorks(pinLauncher(allowedCpus().slice(0, 1)));
    if (await pinningWorks) line = [...pinLauncher(scheduling.cpus), ...line];
  }
  if (scheduling.idle) {
    idleWorks ??= launcherWorks(idleLauncher);
    if (await idleWorks) line = [...idleLauncher, ...line];
  }
  return [line[0], line.slice(1)];
}

/** Runs the launcher through itself: proves both that it exists and that the kernel lets it. */
async function launcherWorks(launcher: readonly string[]): Promise<boolean> {
  if (process.platform !== 'linux') return false;
  try {
    await execFileAsync(launcher[0], [...launcher.slice(1), launcher[0], '--version'], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

let allowed: readonly number[] | undefined;

/**
 * The CPUs this process may run on (its affinity, which a container's cpuset narrows), lowest
 * first: from `/proc/self/status` on Linux; elsewhere, or when unreadable, 0 … n − 1 for the
 * `availableParallelism()` n, which is the count of the same set.
 */
export function allowedCpus(): readonly number[] {
  allowed ??= readAllowedCpus() ?? Array.from({ length: availableParallelism() }, (_, cpu) => cpu);
  return allowed;
}

function readAllowedCpus(): number[] | undefined {
  try {
    const list = /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return list === undefined ? undefined : parseCpuList(list);
  } catch {
    return undefined;
  }
}

/** The CPUs of a kernel CPU list such as `0-3,8,10-11`, in order; undefined when it is not one. */
export function parseCpuList(list: string): number[] | undefined {
  const cpus: number[] = [];
  for (const part of list.split(',')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!match) return undefined;
    const first = Number(match[1]);
    const last = Number(match[2] ?? match[1]);
    for (let cpu = first; cpu <= last; cpu++) cpus.push(cpu);
  }
  return cpus.length > 0 ? cpus : undefined;
}
