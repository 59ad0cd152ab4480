import { spawn, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import { createInterface } from 'node:readline';
import { scheduledCommand, type CpuScheduling } from './cpu-scheduling.js';
import { dyingWithParent } from './die-with-parent.js';
import { launcherStartFailure } from './launcher-failure.js';

/** How many lines of ffmpeg's stderr an error keeps: enough for the cause, not the whole log. */
const stderrTailLines = 20;

/**
 * Lines of a crash report that say nothing to a reader of the log: the memory map glibc prints
 * after a heap corruption (`00400000-03f0e000 r-xp …`) and the bare addresses of a backtrace of a
 * stripped binary (`[0x3931187]`). They would push the message that names the cause out of the tail.
 */
const crashNoise = /^(?:[0-9a-f]+-[0-9a-f]+ [r-][w-][x-][ps-] |\[0x[0-9a-f]+\]$)/;

/** ffmpeg writes its trailer on SIGTERM; after this long a cancelled run is killed outright. */
const terminateGraceMs = 1_000;

export interface RunFfmpegOptions {
  /** Called with ffmpeg's output position (seconds written so far) whenever it reports one. */
  onProgress?: (outTimeSeconds: number) => void;
  /** Stops ffmpeg; the run then rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Scheduling priority of the ffmpeg process (niceness, up to 19): above 0 it leaves the CPU to
   * the processes that need it first, such as the API server on the same machine. Unset: this
   * process's own.
   */
  niceness?: number;
  /** The scheduling class and CPUs of the ffmpeg process (see `CpuScheduling`). Unset: this process's own. */
  scheduling?: CpuScheduling;
  /**
   * Kills ffmpeg when its output position has not moved for this long (from its start, then
   * from each advance): a run that hangs (an input it keeps retrying, a stuck decoder) must end,
   * or it would hold its task for ever. Unset: no limit.
   */
  stallTimeoutMs?: number;
  /** Replaces `child_process.spawn`, for tests. */
  spawnProcess?: (command: string, args: readonly string[]) => ChildProcess;
}

/** ffmpeg ended with an error; `stderrTail` holds its last lines of log. */
export class FfmpegError extends Error {
  constructor(
    readonly exitCode: number | null,
    readonly exitSignal: NodeJS.Signals | null,
    readonly stderrTail: readonly string[],
    /** Set when it was killed for making no progress for this long (`stallTimeoutMs`). */
    readonly stalledMs?: number,
  ) {
    const how =
      stalledMs !== undefined
        ? `made no progress for ${stalledMs / 1000} s and was killed`
        : exitSignal
          ? `was killed by ${exitSignal}`
          : `exited with code ${exitCode}`;
    const log = stderrTail.length > 0 ? `:\n${stderrTail.join('\n')}` : ' (no output on stderr)';
    super(`ffmpeg ${how}${log}`);
    this.name = 'FfmpegError';
  }
}

/**
 * Runs ffmpeg with `args` (inputs, filters, outputs) and resolves when it exits successfully.
 * Progress comes from `-progress pipe:1`, which ffmpeg writes as `key=value` lines on stdout.
 * ffmpeg dies with this process even when it is killed outright (see `dyingWithParent`), and
 * runs in the scheduling class and on the CPUs `scheduling` asks for where the system allows.
 */
export async function runFfmpeg(ffmpegPath: string, args: readonly string[], options: RunFfmpegOptions = {}): Promise<void> {
  const { onProgress, signal, niceness, scheduling = {}, stallTimeoutMs, spawnProcess = defaultSpawn } = options;
  signal?.throwIfAborted();
  const [command, commandArgs] = await dyingWithParent(
    ...(await scheduledCommand(ffmpegPath, ['-hide_banner', '-nostdin', '-nostats', '-progress', 'pipe:1', ...args], scheduling)),
  );
  signal?.throwIfAborted();

  const child = spawnProcess(command, commandArgs);
  track(child);
  if (niceness !== undefined && child.pid !== undefined) {
    try {
      // Set at once, before ffmpeg starts its threads, which inherit it.
      setPriority(child.pid, niceness);
    } catch {
      // It already ended; its exit is reported below.
    }
  }
  const stderrTail: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    if (crashNoise.test(line)) return;
    stderrTail.push(line);
    if (stderrTail.length > stderrTailLines) stderrTail.shift();
  });
  let stalled = false;
  const stallTimer =
    stallTimeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          stalled = true;
          child.kill('SIGKILL');
        }, stallTimeoutMs);
  let position = 0;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const outTime = outTimeSeconds(line);
    if (outTime === undefined) return;
    if (outTime > position) stallTimer?.refresh();
    position = Math.max(position, outTime);
    onProgress?.(outTime);
  });

  return new Promise<void>((resolve, reject) => {
    let killTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), terminateGraceMs);
    };
    signal?.addEventListener('abort', stop, { once: true });
    child.once('error', (error) => {
      clearTimeout(stallTimer);
      signal?.removeEventListener('abort', stop);
      reject(new Error(`cannot run ffmpeg "${ffmpegPath}": ${error.message}`));
    });
    child.once('close', (code, exitSignal) => {
      clearTimeout(killTimer);
      clearTimeout(stallTimer);
      signal?.removeEventListener('abort', stop);
      const notStarted = launcherStartFailure(command, code, stderrTail.at(-1));
      if (signal?.aborted) reject(signal.reason);
      else if (code === 0) resolve();
      else if (notStarted) reject(new Error(`cannot run ffmpeg "${ffmpegPath}": ${notStarted}`));
      else reject(new FfmpegError(code, exitSignal, stderrTail, stalled ? stallTimeoutMs : undefined));
    });
  });
}

/** ffmpeg processes still running: killed when this process exits, so none outlives a shutdown. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  running.add(child);
  child.once('close', () => running.delete(child));
  child.once('error', () => running.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', killRunningFfmpeg);
  }
}

/** Kills every ffmpeg this module started that is still running; returns how many were. */
export function killRunningFfmpeg(): number {
  const count = running.size;
  for (const child of running) child.kill('SIGKILL');
  running.clear();
  return count;
}

function defaultSpawn(command: string, args: readonly string[]): ChildProcess {
  return spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * The output position in a `-progress` line. Every ffmpeg version counts `out_time_ms` in
 * microseconds despite its name; 4.2 and later also write the same number as `out_time_us`.
 * Before the first packet the value is `N/A` (or negative), which says nothing.
 */
export function outTimeSeconds(line: string): number | undefined {
  const match = /^out_time_(?:us|ms)=(-?\d+)$/.exec(line.trim());
  if (!match) return undefined;
  const microseconds = Number(match[1]);
  return microseconds >= 0 ? microseconds / 1e6 : undefined;
}
