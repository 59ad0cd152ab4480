import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TaskSnapshot } from '../../src/spec/task-store.js';
import { SnapshotCache, snapshotRecheckMs } from '../../src/store/snapshot-cache.js';

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
