import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestApiClient } from '../support/api-client.js';
import { runCli, startServerProcess } from '../support/server-process.js';
import { tempDir } from '../support/temp-dir.js';

test('wan keys: a created key works, is listed without its secret, and stops working once revoked', async () => {
  const dataDir = tempDir();
  const key = (await runCli(['keys', 'create', '--name', 'ci', '--data-dir', dataDir])).stdout.trim();
  const server = await startServerProcess(dataDir);
  const client = new TestApiClient(server.url, key);
  assert.equal((await client.submit('wan2.7-t2v', { prompt: 'x', size: '1280*720', duration: 2 })).status, 200);

  const listed = JSON.parse((await runCli(['keys', 'list', '--json', '--data-dir', dataDir])).stdout);
  assert.equal(listed.length, 1, 'no first key is created when one exists');
  assert.equal(listed[0].name, 'ci');
  assert.equal(key.startsWith(listed[0].prefix), true);
  assert.doesNotMatch(JSON.stringify(listed), new RegExp(key), 'the key itself is not listed');

  const revoked = await runCli(['keys', 'revoke', listed[0].prefix, '--data-dir', dataDir]);
  assert.match(revoked.stdout, /^revoked /);
  // The server trusts an authenticated key for at most 2 s without asking the database again.
  await sleep(2100);
  const refused = await client.submit('wan2.7-t2v', { prompt: 'x', size: '1280*720', duration: 2 });
  assert.equal(refused.status, 403);
  assert.equal(refused.body.reason, 'INVALID_API_KEY');
  await assert.rejects(runCli(['keys', 'revoke', 'wan_nosuchkey', '--data-dir', dataDir]), /no active key/);
  assert.equal(await server.stop(), 0);
});

test('the first start of an empty data directory creates a key and prints it once', async () => {
  const dataDir = tempDir();
  const first = await startServerProcess(dataDir);
  // The key is printed just after the server reports that it listens.
  let printed: string | undefined;
  for (let waited = 0; !printed && waited < 5000; waited += 50) {
    printed = /\n {2}(wan_[A-Za-z0-9_-]+)\n/.exec(first.stderr())?.[1];
    if (!printed) await sleep(50);
  }
  assert.ok(printed, `no key on stderr: ${first.stderr()}`);
  assert.equal(first.logs.some((entry) => JSON.stringify(entry).includes(printed)), false, 'never in the JSON log');
  assert.equal((await new TestApiClient(first.url, printed).result('none')).body.reason, 'TASK_NOT_FOUND');
  assert.equal(await first.stop(), 0);
  const second = await startServerProcess(dataDir);
  await sleep(500); // as long as the first start took, many times over, to print its key
  assert.doesNotMatch(second.stderr(), /wan_/, 'shown only once');
  assert.equal(await second.stop(), 0);
});

test('a first start that cannot listen says so in one line and creates no key that nobody saw', async () => {
  const dataDir = tempDir();
  const taken = createServer().listen(0, '127.0.0.1');
  await once(taken, 'listening');
  const port = (taken.address() as AddressInfo).port;
  const failed = await runCli(['serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir]).then(
    () => assert.fail('the server started on a taken port'),
    (error: { code: number; stderr: string }) => error,
  );
  taken.close();
  assert.equal(failed.code, 1);
  assert.equal(failed.stderr.trim(), `wan: port ${port} is in use; pass --port (or set WAN_PORT) to use another`);
  const listed = JSON.parse((await runCli(['keys', 'list', '--json', '--data-dir', dataDir])).stdout);
  assert.deepEqual(listed, [], 'the first key waits for a start that succeeds');

  const started = await startServerProcess(dataDir);
  for (let waited = 0; !/\n {2}wan_/.test(started.stderr()) && waited < 5000; waited += 50) await sleep(50);
  assert.match(started.stderr(), /Created the first API key/);
  assert.equal(await started.stop(), 0);
});

test('wan --help piped into a reader that stops early ends quietly', async () => {
  const { stdout, stderr } = await promisify(execFile)('bash', ['-c', `node --import tsx src/cli/main.ts t2v --help | head -1`], {
    cwd: path.resolve(import.meta.dirname, '../..'),
  });
  assert.match(stdout, /^Usage: wan t2v/);
  assert.equal(stderr, '', 'no EPIPE stack');
});
