import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RenderCpus } from '../../src/engines/preview/render-cpus.js';

/** The CPUs of `count` renders started one after the other. */
function cpusOf(cpus: RenderCpus, count: number) {
  return Array.from({ length: count }, () => cpus.take().cpus);
}

describe('RenderCpus', () => {
  test('2 CPUs, 2 renders at once: 1 thread each, both on the second CPU, the first left to the API', () => {
    const cpus = new RenderCpus([0, 1], 2);
    assert.equal(cpus.threads, 1);
    assert.deepEqual(cpusOf(cpus, 2), [[1], [1]]);
  });

  test('8 CPUs, 2 renders at once: 3 threads each, on CPUs of their own', () => {
    const cpus = new RenderCpus([0, 1, 2, 3, 4, 5, 6, 7], 2);
    assert.equal(cpus.threads, 3);
    assert.deepEqual(cpusOf(cpus, 2), [[1, 2, 3], [4, 5, 6]]);
  });

  test('each render takes the group the fewest renders use; an ended render gives its group back', () => {
    const cpus = new RenderCpus([0, 1, 2, 3, 4], 4);
    assert.equal(cpus.threads, 1);
    const shares = Array.from({ length: 4 }, () => cpus.take());
    assert.deepEqual(shares.map((share) => share.cpus), [[1], [2], [3], [4]]);
    shares[2].release();
    shares[2].release(); // twice counts once
    assert.deepEqual(cpus.take().cpus, [3]);
    assert.deepEqual(cpus.take().cpus, [1], 'all groups used once: the first');
  });

  test('the CPUs of a narrowed affinity (a container cpuset) are used as they are numbered', () => {
    const cpus = new RenderCpus([2, 3, 6, 7], 1);
    assert.equal(cpus.threads, 3);
    assert.deepEqual(cpusOf(cpus, 2), [[3, 6, 7], [3, 6, 7]]);
  });

  test('one CPU: renders run on it, unconfined (there is nothing to leave free)', () => {
    const cpus = new RenderCpus([0], 2);
    assert.equal(cpus.threads, 1);
    assert.deepEqual(cpusOf(cpus, 2), [undefined, undefined]);
  });

  test('a budget that is asked for wins; beyond the CPUs left to renders it takes the API one too', () => {
    assert.deepEqual(cpusOf(new RenderCpus([0, 1, 2, 3], 2, 2), 2), [[1, 2], [1, 2]]);
    const everything = new RenderCpus([0, 1], 2, 2);
    assert.equal(everything.threads, 2);
    assert.deepEqual(cpusOf(everything, 2), [undefined, undefined]);
    assert.equal(new RenderCpus([0, 1], 2, 64).threads, 2, 'never more threads than CPUs');
  });

  test('no renders at once (capacity 0) still gives a budget of at least one thread', () => {
    assert.equal(new RenderCpus([0, 1, 2], 0).threads, 2);
  });
});
