import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TaskSnapshot } from '../../src/spec/task-store.js';
import { SnapshotCache, snapshotRecheckMs } from '../../src/store/snapshot-cache.js';
import { snapshotFields } from '../../src/store/task-rows.js';

function snapshot(id: string, version = 1): TaskSnapshot {
  return { id, version } as TaskSnapshot;
}

test('a task is kept from its second reading on, and served while fresh', () => {
  const cache = new SnapshotCache();
  cache.keep(snapshot('a'), 0);
  assert.equal(cache.fresh('a', 1), undefined, 'read once: only noted');
  cache.keep(snapshot('a'), 10);
  assert.equal(cache.fresh('a', 11)?.id, 'a', 'read twice: kept');
  assert.equal(cache.fresh('a', 10 + snapshotRecheckMs), undefined, 'due for a check once snapshotRecheckMs passed');
  assert.equal(cache.kept('a')?.id, 'a', 'still there for the version check');
  cache.keep(snapshot('a', 2), 2000);
  assert.equal(cache.fresh('a', 2001)?.version, 2, 'a kept task is kept again at once');
  cache.drop('a', 2);
  assert.equal(cache.kept('a')?.version, 2, 'the change this copy came from does not drop it');
  cache.drop('a', 3);
  assert.equal(cache.kept('a'), undefined, 'a later change drops it');
});

test('tasks read once each, by the thousand, keep nothing and do not push out a kept one', () => {
  const cache = new SnapshotCache();
  cache.keep(snapshot('polled'), 0);
  cache.keep(snapshot('polled'), 0);
  const ids = Array.from({ length: 20_000 }, (_, index) => `0193a1b2-7c3d-7e4f-8a9b-${String(index).padStart(12, '0')}`);
  for (const id of ids) cache.keep(snapshot(id), 0);
  const keptOnce = ids.filter((id) => cache.kept(id) !== undefined).length;
  // Ids that share a slot with one read before are kept: a handful, never the bulk.
  assert.ok(keptOnce < ids.length / 100, `${keptOnce} of ${ids.length} tasks read once were kept`);
  assert.equal(cache.kept('polled')?.id, 'polled');
});

test('a reading that a change crossed on its way is served, but not kept as confirmed', async () => {
  let now = 0;
  const cache = new SnapshotCache(() => now);
  const row = (version: number) => [version, ...snapshotFields.map((field) => (field === 'version' ? version : field === 'id' ? 'a' : field === 'results' || field === 'extra' ? '[]' : null))];
  const reads: number[] = [];
  const fetch = async (_id: string, keptVersion: number) => {
    reads.push(keptVersion);
    return row(1);
  };
  await cache.read('a', fetch);
  await cache.read('a', fetch);
  assert.deepEqual(reads, [-1, -1], 'read once: only noted, so read again');
  assert.equal((await cache.read('a', fetch))?.version, 1);
  assert.deepEqual(reads, [-1, -1], 'read twice: kept and served while fresh');
  now += snapshotRecheckMs;
  // The version check of a copy due for one: a change of another task is heard meanwhile.
  const crossed = cache.read('a', async (_id, keptVersion) => {
    reads.push(keptVersion);
    cache.drop('b', 7);
    return [1];
  });
  assert.equal((await crossed)?.version, 1, 'the confirmed copy is answered');
  assert.deepEqual(reads, [-1, -1, 1], 'the kept version was sent for the check');
  await cache.read('a', fetch);
  assert.equal(reads.length, 4, 'not trusted as fresh: the next poll checks again');
  assert.equal((await cache.read('a', fetch))?.version, 1);
  assert.equal(reads.length, 4, 'a check no change crossed is trusted');
  assert.equal(await cache.read('gone', async () => undefined), undefined, 'no such task');
});
