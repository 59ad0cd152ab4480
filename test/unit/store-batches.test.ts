import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Batches } from '../../src/store/postgres/batches.js';

/** Batches whose statements the test ends by hand: each run is recorded with the way to answer it. */
function recorded(lingerMs?: number) {
  const runs: { items: number[]; answer: () => void; fail: (error: Error) => void }[] = [];
  const batches = new Batches<number, string>(
    (items) =>
      new Promise((resolve, reject) => {
        runs.push({ items, answer: () => resolve(items.map((item) => `stored ${item}`)), fail: reject });
      }),
    { largest: 1000, lingerMs },
  );
  return { runs, batches };
}

test('calls that arrive while a statement is in flight go together in the next one', async () => {
  const { runs, batches } = recorded();
  const first = batches.add(1);
  const others = [2, 3, 4].map((item) => batches.add(item));
  assert.deepEqual(runs.map((run) => run.items), [[1]], 'a lone call goes at once; the others wait for it');
  runs[0].answer();
  assert.equal(await first, 'stored 1');
  await sleep(0);
  assert.deepEqual(runs[1].items, [2, 3, 4]);
  runs[1].answer();
  assert.deepEqual(await Promise.all(others), ['stored 2', 'stored 3', 'stored 4'], 'each call gets its own answer');
});

test('a failed statement fails every call of its batch, and the next batch still goes', async () => {
  const { runs, batches } = recorded();
  const first = batches.add(1);
  const failing = [2, 3].map((item) => batches.add(item));
  runs[0].answer();
  await first;
  await sleep(0);
  runs[1].fail(new Error('the database went away'));
  for (const call of failing) await assert.rejects(call, /went away/);
  const after = batches.add(4);
  assert.deepEqual(runs[2].items, [4]);
  runs[2].answer();
  assert.equal(await after, 'stored 4');
});

test('with lingerMs, a call waits for as many calls as the last batch held, and no longer than lingerMs', async () => {
  const { runs, batches } = recorded(50);
  // A first batch of one, then three gathered behind it: the last batch held three.
  const first = batches.add(1);
  const three = [2, 3, 4].map((item) => batches.add(item));
  runs[0].answer();
  await first;
  await sleep(0);
  runs[1].answer();
  await Promise.all(three);

  // The callers come back one by one: the first two wait, the third completes the group.
  const group = [5, 6].map((item) => batches.add(item));
  await sleep(10);
  assert.equal(runs.length, 2, 'fewer calls than the last batch held: they wait');
  group.push(batches.add(7));
  assert.deepEqual(runs[2].items, [5, 6, 7], 'as many as the last batch: sent at once');
  runs[2].answer();
  await Promise.all(group);

  // Only one comes back: it goes when lingerMs has passed, and the next lone call goes at once.
  const startedAt = performance.now();
  const lone = batches.add(8);
  await sleep(10);
  assert.equal(runs.length, 3, 'still waiting within lingerMs');
  await sleep(60);
  assert.deepEqual(runs[3]?.items, [8], 'sent alone once lingerMs passed');
  // A timer may fire a fraction of a millisecond early by this clock.
  assert.ok(performance.now() - startedAt >= 49, 'not before lingerMs');
  runs[3].answer();
  await lone;
  await sleep(0);
  const next = batches.add(9);
  assert.deepEqual(runs[4]?.items, [9], 'after a batch of one, a lone call goes at once');
  runs[4].answer();
  await next;
});
