import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/**
 * util-linux's `setpriv` sets the parent-death signal (prctl PR_SET_PDEATHSIG) and then runs the
 * command in its own process: the kernel sends SIGKILL to the command when this process ends, for
 * whatever reason, `kill -9` included. Node has no such option of its own, and its `exit` hook does
 * not run on SIGKILL, so without this an ffmpeg would render on, orphaned, after a crash.
 */
const launcher = ['setpriv', '--pdeathsig', 'SIGKILL', '--'];

let detected: Promise<readonly string[]> | undefined;

/**
 * The command line that runs `command` with `args` so that it dies with this process: behind
 * `setpriv --pdeathsig SIGKILL` where that works (Linux with util-linux 2.33 or later, found on
 * PATH; tried once), else as it is. The pid of the spawned process is the command's: `setpriv`
 * replaces itself with it.
 */
export async function dyingWithParent(command: string, args: readonly string[]): Promise<[string, string[]]> {
  detected ??= detectLauncher();
  const prefix = await detected;
  return prefix.length > 0 ? [prefix[0], [...prefix.slice(1), command, ...args]] : [command, [...args]];
}

async function detectLauncher(): Promise<readonly string[]> {
  if (process.platform !== 'linux') return [];
  try {
    // Runs setpriv through itself: proves both that it exists and that it takes --pdeathsig.
    await execFileAsync(launcher[0], [...launcher.slice(1), launcher[0], '--version'], { timeout: 10_000 });
    return launcher;
  } catch {
    return [];
  }
}
