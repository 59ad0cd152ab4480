import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** How many lines of ffmpeg's stderr an error keeps: enough for the cause, not the whole log. */
const stderrTailLines = 20;

/** ffmpeg writes its trailer on SIGTERM; after this long a cancelled run is killed outright. */
const terminateGraceMs = 1_000;

export interface RunFfmpegOptions {
  /** Called with ffmpeg's output position (seconds written so far) whenever it reports one. */
  onProgress?: (outTimeSeconds: number) => void;
  /** Stops ffmpeg; the run then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Replaces `child_process.spawn`, for tests. */
  spawnProcess?: (command: string, args: readonly string[]) => ChildProcess;
}

/** ffmpeg ended with an error; `stderrTail` holds its last lines of log. */
export class FfmpegError extends Error {
  constructor(
    readonly exitCode: number | null,
    readonly exitSignal: NodeJS.Signals | null,
    readonly stderrTail: readonly string[],
  ) {
    const how = exitSignal ? `was killed by ${exitSignal}` : `exited with code ${exitCode}`;
    const log = stderrTail.length > 0 ? `:\n${stderrTail.join('\n')}` : ' (no output on stderr)';
    super(`ffmpeg ${how}${log}`);
    this.name = 'FfmpegError';
  }
}

/**
 * Runs ffmpeg with `args` (inputs, filters, outputs) and resolves when it exits successfully.
 * Progress comes from `-progress pipe:1`, which ffmpeg writes as `key=value` lines on stdout.
 */
export function runFfmpeg(ffmpegPath: string, args: readonly string[], options: RunFfmpegOptions = {}): Promise<void> {
  const { onProgress, signal, spawnProcess = defaultSpawn } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);

  const child = spawnProcess(ffmpegPath, ['-hide_banner', '-nostdin', '-nostats', '-progress', 'pipe:1', ...args]);
  track(child);
  const stderrTail: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderrTail.push(line);
    if (stderrTail.length > stderrTailLines) stderrTail.shift();
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const outTime = outTimeSeconds(line);
    if (outTime !== undefined) onProgress?.(outTime);
  });

  return new Promise<void>((resolve, reject) => {
    let killTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), terminateGraceMs);
    };
    signal?.addEventListener('abort', stop, { once: true });
    child.once('error', (error) => {
      signal?.removeEventListener('abort', stop);
      reject(new Error(`cannot run ffmpeg "${ffmpegPath}": ${error.message}`));
    });
    child.once('close', (code, exitSignal) => {
      clearTimeout(killTimer);
      signal?.removeEventListener('abort', stop);
      if (signal?.aborted) reject(signal.reason);
      else if (code === 0) resolve();
      else reject(new FfmpegError(code, exitSignal, stderrTail));
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
