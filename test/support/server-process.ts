import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after } from 'node:test';
import { promisify } from 'node:util';

const root = path.resolve(import.meta.dirname, '../..');
/** The CLI entry run from source through tsx, exactly as `wan` runs once built. */
const cli = ['--import', 'tsx', path.join(root, 'src/cli/main.ts')];

export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [...cli, ...args], { cwd: root, env: { ...process.env, ...env } });
}

/** `wan <args>` as a child process, run from source as runCli runs it, its stdout and stderr piped. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(process.execPath, [...cli, ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  // Whatever a test asserts, the process never outlives it (a live child would hang the run).
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Every JSON log line the server has written so far. */
  logs: Record<string, unknown>[];
  stderr: () => string;
  /** SIGTERM, then wait for the exit code. */
  stop(): Promise<number | null>;
  kill9(): Promise<void>;
}

/** Starts `wan serve` on a free loopback port and waits until it listens. */
export async function startServerProcess(dataDir: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
  const child = spawnCli(['serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, ...extraArgs], env);
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = once(child, 'exit');
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 30 s; stderr:\n${stderr}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening; stderr:\n${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line);
        logs.push(entry);
        if (entry.msg === 'wan-api listening') {
          clearTimeout(timer);
          resolve(entry.url);
        }
      } catch {
        // not a log line
      }
    });
  });
  return {
    url,
    child,
    logs,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = await exited;
      return code as number | null;
    },
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
