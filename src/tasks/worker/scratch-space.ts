import { readdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';

/**
 * Each process works under `<work>/<host>-<pid>/`; directories of processes that no longer run
 * (a crash leaves them behind) are removed when another starts on the same host. The host is in
 * the name because a data directory may be shared by processes of several machines (over a
 * network file system): a pid means nothing on another host, so only this host's are judged.
 * Answers this process's directory.
 */
export async function scratchSpace(workParent: string): Promise<string> {
  const host = hostname();
  const entries = await readdir(workParent).catch(() => [] as string[]);
  for (const entry of entries) {
    const pid = pidOf(entry, host);
    // Our own pid can be a leftover too: in a container every start is pid 1.
    if (pid !== undefined && (pid === process.pid || !isProcessAlive(pid))) await rm(path.join(workParent, entry), { recursive: true, force: true });
  }
  return path.join(workParent, `${host}-${process.pid}`);
}

/** The pid of one of this host's directories; undefined for another host's. */
function pidOf(entry: string, host: string): number | undefined {
  if (!entry.startsWith(`${host}-`)) return undefined;
  const pid = Number(entry.slice(host.length + 1));
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
