import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { TestApiClient } from '../support/api-client.js';
import { runCli, startServerProcess } from '../support/server-process.js';

const run = promisify(execFile);

/**
 * A small file system of its own for the data directory, so the test can fill it to the last
 * byte. Mounting needs root (or CAP_SYS_ADMIN): where the test cannot mount, it says so and skips.
 */
async function smallFileSystem(megabytes: number): Promise<string | { cannot: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'wan-test-full-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${megabytes}m`, 'tmpfs', dir]);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    return { cannot: `cannot mount a ${megabytes} MB tmpfs to fill (${(error as Error).message.split('\n')[0]}); run the tests as root to cover a full disk` };
  }
  after(async () => {
    await run('umount', ['-l', dir]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Writes a file until the disk refuses another byte; answers its path. */
async function fillDisk(dir: string): Promise<string> {
  const filler = path.join(dir, 'filler');
  const file = await open(filler, 'w');
  const chunk = Buffer.alloc(256 * 1024, 7);
  try {
    for (;;) await file.write(chunk);
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
  }
  // Fill the last partial chunk too.
  try {
    for (;;) await file.write(Buffer.alloc(4096, 7));
  } catch {
    // full to the page
  }
  await file.close();
  return filler;
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen in ${timeoutMs} ms; last: ${JSON.stringify(value)}`);
    await sleep(100);
  }
}

test('a full disk: the server stays up, refuses cleanly, survives a restart, and finishes every task once space is freed', async (t) => {
  const dataDir = await smallFileSystem(64);
  if (typeof dataDir !== 'string') {
    t.skip(dataDir.cannot);
    return;
  }
  const key = (await runCli(['keys', 'create', '--data-dir', dataDir])).stdout.trim();
  const args = ['--worker-concurrency', '1', '--min-free-disk-bytes', String(4 * 1024 * 1024), '--lease-seconds', '3'];
  let server = await startServerProcess(dataDir, args);
  let client = new TestApiClient(server.url, key);
  const task = { prompt: 'waves on a full disk', size: '1280*720', duration: 2 };
  const ids: string[] = [];
  for (let seed = 0; seed < 3; seed++) ids.push((await client.submit('wan2.7-t2v', { ...task, seed })).body.task_id);

  const filler = await fillDisk(dataDir);
  const ready = await until(
    () => fetch(`${server.url}/readyz`).then(async (response) => ({ status: response.status, body: await response.json() })),
    (answer) => answer.status === 503,
    '/readyz saying 503',
  );
  assert.match(ready.body.metadata.checks.disk, /data directory/);

  const refused = await client.submit('wan2.7-t2v', task);
  assert.equal(refused.status, 503);
  assert.deepEqual(Object.keys(refused.body).sort(), ['code', 'message', 'metadata', 'reason']);
  assert.equal(refused.body.reason, 'STORAGE_FULL');
  assert.match(refused.body.message, /try again later/);
  const upload = await fetch(`${server.url}/v3/uploads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/octet-stream' },
    // A whole 1×1 PNG: only the disk can be the reason to refuse it.
    body: Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64'),
  });
  const uploadBody = await upload.json();
  assert.equal(upload.status, 503, JSON.stringify(uploadBody));
  assert.equal(uploadBody.reason, 'STORAGE_FULL');

  // Long enough for renders to hit the full disk and for the worker's writes to be refused.
  await sleep(4000);
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'still up');
  for (const id of ids) {
    const { body } = await client.result(id);
    assert.notEqual(body.task.status, 'TASK_STATUS_FAILED', `${id} must not fail for the server's disk: ${body.task.reason}`);
  }

  // A restart on the still-full disk comes up (not ready) instead of dying.
  assert.equal(await server.stop(), 0);
  server = await startServerProcess(dataDir, args);
  client = new TestApiClient(server.url, key);
  await sleep(2000);
  assert.equal(server.child.exitCode, null, 'alive on a full disk');
  assert.equal((await fetch(`${server.url}/readyz`)).status, 503);

  await rm(filler);
  await until(() => fetch(`${server.url}/readyz`).then((response) => response.status), (status) => status === 200, '/readyz recovering');
  for (const id of ids) {
    const result = await client.waitForEnd(id, 120_000);
    assert.equal(result.task.status, 'TASK_STATUS_SUCCEED', `${id}: ${result.task.reason}`);
  }
  const after = await client.submit('wan2.7-t2v', { ...task, duration: 2 });
  assert.equal(after.status, 200);
  assert.equal((await client.waitForEnd(after.body.task_id)).task.status, 'TASK_STATUS_SUCCEED');
  assert.equal(await server.stop(), 0);
});
