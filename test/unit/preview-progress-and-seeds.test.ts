import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderProgress } from '../../src/engines/preview/render-progress.js';
import { seededRandom } from '../../src/engines/preview/seeded-random.js';

describe('renderProgress', () => {
  test('percent of the planned length written, remaining time at the speed so far', () => {
    assert.deepEqual(renderProgress(2.5, 5, 1), { progressPercent: 50, etaSeconds: 1 });
    assert.deepEqual(renderProgress(1, 4, 3), { progressPercent: 25, etaSeconds: 9 });
  });

  test('before any report: 0 %, and the render is assumed to run at real time', () => {
    assert.deepEqual(renderProgress(0, 5, 0), { progressPercent: 0, etaSeconds: 5 });
    assert.deepEqual(renderProgress(0, 5, 7), { progressPercent: 0, etaSeconds: 0 });
  });

  test('never 100 while running, never out of range', () => {
    assert.equal(renderProgress(5, 5, 1).progressPercent, 99);
    assert.equal(renderProgress(6, 5, 1).progressPercent, 99);
    assert.equal(renderProgress(-1, 5, 1).progressPercent, 0);
    assert.deepEqual(renderProgress(1, 0, 1), { progressPercent: 0, etaSeconds: 0 });
  });
});

describe('seededRandom', () => {
  const draws = (seed: number, stream: string) => {
    const random = seededRandom(seed, stream);
    return Array.from({ length: 5 }, () => random.next());
  };

  test('the same seed and stream give the same numbers, in [0, 1)', () => {
    assert.deepEqual(draws(42, 'scene'), draws(42, 'scene'));
    for (const value of draws(42, 'scene')) assert.ok(value >= 0 && value < 1);
  });

  test('another seed or another stream gives other numbers', () => {
    assert.notDeepEqual(draws(42, 'scene'), draws(43, 'scene'));
    assert.notDeepEqual(draws(42, 'scene'), draws(42, 'soundtrack'));
  });

  test('between and pick stay in range', () => {
    const random = seededRandom(0, 'test');
    for (let index = 0; index < 100; index++) {
      const value = random.between(3, 4);
      assert.ok(value >= 3 && value < 4);
      assert.ok(['a', 'b'].includes(random.pick(['a', 'b'])));
    }
  });
});
