/**
 * The util-linux launchers a command may be started through (`die-with-parent.ts`,
 * `cpu-scheduling.ts`). Each replaces itself with the next, so a command that cannot be run
 * is reported by the last launcher, not by the system.
 */
const launchers = ['setpriv', 'chrt', 'taskset'];
const failedToExecute = new RegExp(`^(?:${launchers.join('|')}): failed to execute .*?: (.+)$`);

/**
 * Why a launcher could not start the command (exit code 126: not executable, 127: not found;
 * the launcher names the cause on stderr), or undefined when the command itself ran.
 * `command` is the program that was spawned, the first of the chain.
 */
export function launcherStartFailure(command: string, exitCode: number | null, lastStderrLine = ''): string | undefined {
  if (!launchers.includes(command) || (exitCode !== 126 && exitCode !== 127)) return undefined;
  return failedToExecute.exec(lastStderrLine)?.[1];
}
