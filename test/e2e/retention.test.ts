import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolveFfmpeg } from '../../src/media/ffmpeg-binaries.js';
import { TestApiClient } from '../support/api-client.js';
import { makeImage } from '../support/media-fixtures.js';
import { runCli, startServerProcess } from '../support/server-process.js';
import { tempDir } from '../support/temp-dir.js';

/** Bytes of every file under `directory` (none when it does not exist). */
function bytesUnder(directory: string): number {
  let total = 0;
  let entries;
  try {
    entries = readdirSync(directory, { withFileTypes: true, recursive: true });
  } catch {
    return 0;
  }
  for (const entry of entries) if (entry.isFile()) total += statSync(path.join(entry.parentPath, entry.name)).size;
  return total;
}

test('expired results and uploads are removed, their tasks say so, and disk use returns to its baseline', async () => {
  const dataDir = tempDir();
  const blobs = path.join(dataDir, 'blobs');
  const key = (await runCli(['keys', 'create', '--data-dir', dataDir])).stdout.trim();
  const baseline = bytesUnder(blobs);

  // Kept by the defaults (a week of results, a day of uploads) while the server makes them.
  const keeping = await startServerProcess(dataDir);
  const api = new TestApiClient(keeping.url, key);
  const image = path.join(tempDir(), 'still.png');
  await makeImage(await resolveFfmpeg(), image, { width: 320, height: 320 });
  const upload = await fetch(`${keeping.url}/v3/uploads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'x-file-name': 'still.png' },
    body: new Uint8Array(readFileSync(image)),
  });
  const uploadUrl = (await upload.json()).url;
  const ids = [];
  for (let index = 0; index < 3; index++) ids.push((await api.submit('wan2.7-t2v', { prompt: 'a clock tower', size: '1280*720', duration: 2, seed: index })).body.task_id);
  for (const id of ids) assert.equal((await api.waitForEnd(id)).task.status, 'TASK_STATUS_SUCCEED');
  const grown = bytesUnder(blobs);
  assert.ok(grown > baseline + 10_000, `three videos and an upload take room: ${grown} bytes`);
  assert.equal(await keeping.stop(), 0);

  // Kept for 0 hours, swept every second.
  const sweeping = await startServerProcess(dataDir, ['--result-retention-hours', '0', '--upload-retention-hours', '0', '--retention-sweep-seconds', '1']);
  const after = new TestApiClient(sweeping.url, key);
  const deadline = Date.now() + 20_000;
  while (bytesUnder(blobs) !== baseline) {
    assert.ok(Date.now() < deadline, `disk use is back to ${baseline} bytes, not ${bytesUnder(blobs)}`);
    await sleep(100);
  }
  for (const id of ids) {
    const { body } = await after.result(id);
    assert.equal(body.task.status, 'TASK_STATUS_SUCCEED');
    assert.deepEqual(body.videos, [], 'no dead URL is offered');
    assert.match(body.extra.results_expired_at, /^\d{13}$/);
  }
  // The same signed URL, on the server that runs now.
  const gone = await fetch(new URL(new URL(uploadUrl).pathname + new URL(uploadUrl).search, sweeping.url));
  assert.equal(gone.status, 404);
  assert.equal((await gone.json()).reason, 'FILE_NOT_FOUND');
  assert.ok(sweeping.logs.some((entry) => entry.msg === 'retention sweep' && entry.resultsExpired === 3 && entry.uploadsDeleted === 1));
  assert.equal(await sweeping.stop(), 0);
});
