import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import type { ModelId } from '../../src/models/model.js';
import { models } from '../../src/models/registry.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { TaskStatus } from '../../src/spec/task-status.js';
import { tempDir } from '../support/temp-dir.js';

const lease = 10_000;

function newStore(): SqliteStore {
  return new SqliteStore(path.join(tempDir(), 'wan.db'));
}

function newTask(id: string, createdAt: number) {
  return { id, keyId: 'key-1', model: 'wan2.7-t2v' as ModelId, request: { prompt: id }, seed: 7, createdAt };
}

test('inserts submitted in one turn are committed together and read back whole', async () => {
  const store = newStore();
  await Promise.all([store.insert(newTask('a', 1)), store.insert(newTask('b', 2)), store.insert(newTask('c', 3))]);
  const task = await store.get('b');
  assert.equal(task?.status, TaskStatus.Queued);
  assert.deepEqual(task?.request, { prompt: 'b' });
  assert.equal(task?.seed, 7);
  assert.equal(task?.attempts, 0);
  assert.equal(await store.get('missing'), undefined);
});

test('a failing batch rejects every insert of it (duplicate id)', async () => {
  const store = newStore();
  await store.insert(newTask('dup', 1));
  await assert.rejects(store.insert(newTask('dup', 2)), /UNIQUE/);
});

const allModels = models.map((model) => model.id);

test('leasing takes the oldest queued task, once', async () => {
  const store = newStore();
  await store.insert(newTask('young', 20));
  await store.insert(newTask('old', 10));
  const first = await store.leaseNext('w1', 100, lease, allModels);
  assert.equal(first?.id, 'old');
  assert.equal(first?.status, TaskStatus.Processing);
  assert.equal(first?.attempts, 1);
  assert.equal((await store.leaseNext('w2', 100, lease, allModels))?.id, 'young');
  assert.equal(await store.leaseNext('w3', 100, lease, allModels), undefined);
});

test('an expired lease is taken over, and the old owner can no longer write', async () => {
  const store = newStore();
  await store.insert(newTask('t', 1));
  await store.leaseNext('dead', 100, lease, allModels);
  assert.equal(await store.leaseNext('w2', 100 + lease - 1, lease, allModels), undefined, 'not before expiry');
  const taken = await store.leaseNext('w2', 100 + lease + 1, lease, allModels);
  assert.equal(taken?.id, 't');
  assert.equal(taken?.attempts, 2);
  assert.deepEqual(await store.renewLeases('dead', 999_999), []);
  assert.equal(await store.saveProgress('t', 'dead', 50, 3), false);
  assert.equal(await store.succeed('t', 'dead', [], {}, 5), false);
  assert.equal(await store.succeed('t', 'w2', [{ key: 'videos/t/0.mp4', type: 'mp4' }], { engine: 'x' }, 5), true);
  assert.equal(await store.succeed('t', 'w2', [], {}, 6), false, 'a task completes only once');
  const done = await store.get('t');
  assert.equal(done?.status, TaskStatus.Succeed);
  assert.equal(done?.progressPercent, 100);
  assert.deepEqual(done?.results, [{ key: 'videos/t/0.mp4', type: 'mp4' }]);
  assert.equal(done?.completedAt, 5);
  assert.equal(done?.leaseOwner, null);
});

test('one renewal extends every lease of its owner, and only those', async () => {
  const store = newStore();
  for (const id of ['a', 'b', 'c']) await store.insert(newTask(id, id.charCodeAt(0)));
  await store.leaseNext('w1', 100, lease, allModels);
  await store.leaseNext('w1', 100, lease, allModels);
  await store.leaseNext('w2', 100, lease, allModels);
  assert.deepEqual((await store.renewLeases('w1', 100 + 3 * lease)).sort(), ['a', 'b']);
  assert.equal((await store.leaseNext('w3', 100 + 2 * lease, lease, allModels))?.id, 'c', "w2's lease ran out");
  assert.equal(await store.leaseNext('w3', 100 + 2 * lease, lease, allModels), undefined, "w1's were renewed");
});

test('a worker leases only the models it names: those whose engines have room', async () => {
  const store = newStore();
  await store.insert(newTask('t2v', 1));
  await store.insert({ ...newTask('i2v', 2), model: 'wan2.7-i2v' });
  assert.equal((await store.leaseNext('w1', 100, lease, ['wan2.7-i2v']))?.id, 'i2v');
  assert.equal(await store.leaseNext('w1', 100, lease, ['wan2.7-i2v', 'wan2.7-r2v']), undefined);
  assert.equal((await store.leaseNext('w1', 100, lease, allModels))?.id, 't2v');
});

test('operation, start time, progress and failure are recorded under the lease', async () => {
  const store = newStore();
  await store.insert(newTask('t', 1));
  await store.leaseNext('w1', 100, lease, allModels);
  assert.equal(await store.saveOperation('t', 'w1', 'preview', { render: 'r1' }, 150), true);
  assert.equal(await store.saveOperation('t', 'w1', 'preview', { render: 'r2' }, 170), true);
  assert.equal(await store.saveProgress('t', 'w1', 40, 3), true);
  let task = await store.get('t');
  assert.deepEqual(task?.operation, { render: 'r2' });
  assert.equal(task?.startedAt, 150, 'the first start is kept');
  assert.equal(task?.progressPercent, 40);
  assert.equal(task?.etaSeconds, 3);
  const error = { code: 400, reason: 'INVALID_IMAGE_FORMAT', message: 'image_url: not an image', metadata: { field: 'image_url' } };
  assert.equal(await store.fail('t', 'w1', error, { engine: 'preview' }, 200), true);
  task = await store.get('t');
  assert.equal(task?.status, TaskStatus.Failed);
  assert.deepEqual(task?.error, error);
  assert.deepEqual(task?.extra, { engine: 'preview' });
});

test('a released task goes back to the queue with its operation', async () => {
  const store = newStore();
  await store.insert(newTask('t', 1));
  await store.leaseNext('w1', 100, lease, allModels);
  await store.saveOperation('t', 'w1', 'preview', { render: 'r1' }, 150);
  assert.equal(await store.release('t', 'w1'), true);
  const task = await store.leaseNext('w2', 200, lease, allModels);
  assert.equal(task?.id, 't');
  assert.deepEqual(task?.operation, { render: 'r1' });
});

test('keys are found by hash until revoked, by id or prefix', async () => {
  const store = newStore();
  await store.createKey({ id: 'k1', name: 'ci', prefix: 'wan_abcdefgh', hash: 'h1', createdAt: 1 });
  await store.createKey({ id: 'k2', name: 'dev', prefix: 'wan_zzzzzzzz', hash: 'h2', createdAt: 2 });
  assert.equal((await store.findByHash('h1'))?.id, 'k1');
  assert.equal(await store.countKeys(), 2);
  assert.equal((await store.revokeKey('wan_abcdefgh', 5))?.id, 'k1');
  assert.equal(await store.findByHash('h1'), undefined);
  assert.equal(await store.revokeKey('wan_abcdefgh', 6), undefined, 'revoking twice finds nothing');
  assert.equal((await store.revokeKey('k2', 7))?.name, 'dev');
  assert.equal(await store.countKeys(), 0);
  assert.deepEqual((await store.listKeys()).map((key) => key.revokedAt), [5, 7]);
});

test('snapshots follow every change of the row, also one made by another connection', async () => {
  const file = path.join(tempDir(), 'wan.db');
  const store = new SqliteStore(file);
  const otherProcess = new SqliteStore(file);
  await store.insert(newTask('t', 1));
  assert.equal((await store.getSnapshot('t'))?.status, TaskStatus.Queued);
  assert.equal((await store.getSnapshot('t'))?.progressPercent, 0, 'read again unchanged');
  await otherProcess.leaseNext('w', 100, lease, allModels);
  await otherProcess.saveProgress('t', 'w', 40, 9);
  const running = await store.getSnapshot('t');
  assert.equal(running?.status, TaskStatus.Processing);
  assert.equal(running?.progressPercent, 40);
  await otherProcess.succeed('t', 'w', [{ key: 'videos/t/0.mp4', type: 'mp4' }], {}, 7);
  const done = await store.getSnapshot('t');
  assert.equal(done?.status, TaskStatus.Succeed);
  assert.deepEqual(done?.results, [{ key: 'videos/t/0.mp4', type: 'mp4' }]);
  assert.equal(await store.getSnapshot('missing'), undefined);
  await otherProcess.close();
  await store.close();
});
