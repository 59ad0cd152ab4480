import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * A full garbage collection in another Node process, started with `--inspect`, through the
 * inspector protocol (`HeapProfiler.collectGarbage`, which also hands freed memory back to the
 * system), so that its RSS measures what is alive rather than what garbage is still around.
 */
export async function collectGarbage(inspectorUrl: string): Promise<void> {
  // Node 20 has a WebSocket client only behind a flag, so a short-lived helper process speaks it.
  const script = `
    const socket = new WebSocket(process.argv[1]);
    socket.onopen = () => socket.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
    socket.onmessage = (event) => { if (JSON.parse(event.data).id === 1) socket.close(); };
    socket.onclose = () => process.exit(0);
    socket.onerror = () => process.exit(1);`;
  await promisify(execFile)(process.execPath, ['--experimental-websocket', '--no-warnings', '-e', script, inspectorUrl], { timeout: 15_000 });
}

/** The inspector's address that `node --inspect=127.0.0.1:0` printed on stderr. */
export function inspectorUrlIn(stderr: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(stderr)?.[1];
}
