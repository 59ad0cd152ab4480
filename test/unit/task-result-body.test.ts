import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { LocalBlobStore } from '../../src/blobs/local/local-blob-store.js';
import { UrlSigner } from '../../src/blobs/url-signer.js';
import type { TaskResultResponse } from '../../src/models/task-result-schema.js';
import { TaskStatus } from '../../src/spec/task-status.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { TaskService } from '../../src/tasks/task-service.js';
import { tempDir } from '../support/temp-dir.js';

const ttlSeconds = 600;
const keyId = 'key-1';

/** A finished task with one video, and the service answering its Task Result at a clock the test moves. */
async function finishedTask() {
  const store = new SqliteStore(path.join(tempDir(), 'wan.db'));
  const blobs = new LocalBlobStore(path.join(tempDir(), 'blobs'), new UrlSigner('secret'), () => 'http://127.0.0.1:1');
  const clock = { now: 1_800_000_000_000 };
  const service = new TaskService({ store: store.tasks, blobs, resultUrlTtlSeconds: ttlSeconds, clock: () => clock.now });
  const id = '0190-body-000001';
  await store.tasks.insert({ id, keyId, model: 'wan2.7-t2v', request: { prompt: 'p' }, seed: 1, webhookUrl: null, createdAt: clock.now, billableSeconds: 5 });
  await store.tasks.leaseNext('w', 60_000, ['wan2.7-t2v']);
  await store.tasks.succeed(id, 'w', { results: [{ key: `videos/${id}/0.mp4`, type: 'mp4' }], extra: {}, usage: null }, clock.now);
  let serialized = 0;
  const serialize = (view: TaskResultResponse) => {
    serialized++;
    return JSON.stringify(view);
  };
  const body = async () => JSON.parse(await service.resultBody(id, keyId, serialize)) as TaskResultResponse;
  // A first poll: the store keeps a task's snapshot (and the body with it) from its second reading on.
  await body();
  serialized = 0;
  return { store, clock, id, body, serializations: () => serialized };
}

/** Seconds the body's video link has left at `now`, read from the link itself. */
function linkSecondsLeft(view: TaskResultResponse, now: number): number {
  const expires = Number(new URL(view.videos[0].video_url).searchParams.get('expires'));
  return expires - now / 1000;
}

test('a Task Result body is reused while the task is unchanged, and every copy served has a link with at least video_url_ttl left', async () => {
  const { store, clock, body, serializations } = await finishedTask();
  try {
    const first = await body();
    assert.equal(first.videos[0].video_url_ttl, String(ttlSeconds));
    const reuseSeconds = ttlSeconds / 10;
    assert.ok(linkSecondsLeft(first, clock.now) >= ttlSeconds + reuseSeconds, 'signed for the reuse time longer than the TTL');
    for (const step of [0, 20_000, reuseSeconds * 1000 - 1]) {
      const now = clock.now;
      clock.now += step;
      const again = await body();
      assert.deepEqual(again, first, `the same body ${clock.now - (now - step)} ms on`);
      assert.ok(linkSecondsLeft(again, clock.now) >= ttlSeconds, 'the reused link still lives at least the TTL');
      clock.now = now;
    }
    assert.equal(serializations(), 1, 'built and serialized once');

    clock.now += reuseSeconds * 1000;
    const later = await body();
    assert.equal(serializations(), 2, 'built again once the reuse time is over');
    assert.notEqual(later.videos[0].video_url, first.videos[0].video_url, 'with a link signed anew');
    assert.ok(linkSecondsLeft(later, clock.now) >= ttlSeconds + reuseSeconds);
  } finally {
    await store.close();
  }
});

test('a Task Result body is built again as soon as the task changes, and is never given to another key', async () => {
  const { store, clock, id, body, serializations } = await finishedTask();
  try {
    assert.equal(((await body()).extra as Record<string, unknown>).results_expired_at, undefined);
    await store.retention.markResultsExpired([id], clock.now + 1);
    const expired = await body();
    assert.equal(serializations(), 2, 'the changed task is not answered from the kept body');
    assert.equal((expired.extra as Record<string, unknown>).results_expired_at, String(clock.now + 1));
    assert.deepEqual(expired.videos, [], 'no dead link once the results are gone');
    assert.equal(expired.task.status, TaskStatus.Succeed);

    const other = new TaskService({ store: store.tasks, blobs: undefined as never, resultUrlTtlSeconds: ttlSeconds, clock: () => clock.now });
    await assert.rejects(other.resultBody(id, 'key-2', JSON.stringify), { status: 404, reason: 'TASK_NOT_FOUND' });
  } finally {
    await store.close();
  }
});
