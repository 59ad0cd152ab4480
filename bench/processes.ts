/**
 * What the benchmarks share: the built server started as a child process, as users run it, and
 * the percentile of a sample.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';

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

export function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}
