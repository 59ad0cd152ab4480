import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RenderProgressEstimate } from '../../src/engines/preview/render-progress.js';
import { seededRandom } from '../../src/engines/preview/seeded-random.js';

describe('RenderProgressEstimate', () => {
  /** A render planned `planned` seconds long whose ffmpeg was started at 0. */
  const estimate = (planned: number, reportPeriod = 0.5) => {
    const progress = new RenderProgressEstimate(planned, 0, reportPeriod);
    progress.started(0);
    return progress;
  };

  test('before any position: 0 %, and the render is assumed to run at real time', () => {
    const progress = estimate(5);
    assert.deepEqual(progress.estimate(0), { progressPercent: 0, etaSeconds: 5 });
    assert.deepEqual(progress.estimate(2), { progressPercent: 0, etaSeconds: 3 });
    assert.deepEqual(progress.estimate(7), { progressPercent: 0, etaSeconds: 0 });
    assert.equal(progress.report(0, 0.25), false, 'position 0 is not progress');
    assert.deepEqual(progress.estimate(1), { progressPercent: 0, etaSeconds: 4 });
  });

  test('the speed is measured between reports, leaving out ffmpeg’s start', () => {
    // ffmpeg 5.1 at 1080P: encoding begins at 0.25 s, the first frames come out at 0.43 s, then 4.2× real time.
    const progress = estimate(15);
    progress.report(0, 0.25);
    progress.report(1.43, 0.75);
    progress.report(3.52, 1.25);
    // (3.52 − 1.43) / 0.5 s = 4.18×: 11.48 s of video left take 2.75 s.
    assert.deepEqual(progress.estimate(1.25), { progressPercent: 23, etaSeconds: 3 });
  });

  test('with one report, the speed is counted from when encoding began, and is real time at least', () => {
    const fromIdle = estimate(10, 0.25);
    fromIdle.report(0, 0.5);
    fromIdle.report(2, 1);
    assert.equal(fromIdle.estimate(1).etaSeconds, 2, 'ffmpeg 5 reports position 0 as it begins: 2 s of video in 0.5 s, 8 s left take 2 s');
    const periodBefore = estimate(10);
    periodBefore.report(2, 1);
    assert.equal(periodBefore.estimate(1).etaSeconds, 2, 'ffmpeg 4 first reports a period after it began: 2 s in 0.5 s');
    const fromStart = estimate(10);
    fromStart.report(1, 0.4);
    assert.equal(fromStart.estimate(0.4).etaSeconds, 4, 'not before ffmpeg started: 1 s of video in 0.4 s, 9 s left take 3.6 s');
    const slowStart = estimate(10);
    slowStart.report(0.1, 1);
    assert.equal(slowStart.estimate(1).etaSeconds, 10, '0.1 s of video in 0.5 s says little: real time at most');
  });

  test('the remaining time counts down between reports', () => {
    const progress = estimate(20);
    progress.report(2, 1);
    progress.report(4, 2);
    assert.deepEqual([2, 3, 4, 5, 20].map((now) => progress.estimate(now).etaSeconds), [8, 7, 6, 5, 0]);
  });

  test('a change of pace is followed within the window of about two seconds', () => {
    const progress = estimate(58);
    let rendered = 0;
    for (let at = 0.5; at <= 4; at += 0.5) progress.report((rendered += 1), at); // 2× real time
    for (let at = 4.5; at <= 7; at += 0.5) progress.report((rendered += 4), at); // then 8×
    // At 32 s of 58: 26 s of video left at 8× take 3.25 s (at the average speed, 5.5 s).
    assert.equal(progress.estimate(7).etaSeconds, 3);
  });

  test('percent of the planned length written, never 100 while running; reports that do not advance change nothing', () => {
    const progress = estimate(5);
    assert.equal(progress.report(2.5, 1), true);
    assert.equal(progress.report(2.5, 1.2), false);
    assert.equal(progress.report(2, 1.4), false);
    assert.deepEqual(progress.estimate(1), { progressPercent: 50, etaSeconds: 1 });
    progress.report(5, 2);
    assert.equal(progress.estimate(2).progressPercent, 99);
    progress.report(6, 2.1);
    assert.equal(progress.estimate(2.1).progressPercent, 99);
    assert.deepEqual(estimate(0).estimate(1), { progressPercent: 0, etaSeconds: 0 });
  });

  test('from the first second on, within 50 % of the truth for renders of any speed, start-up and report period', () => {
    // ffmpeg reports every `period` seconds from `encodeAt`; frames come out from `outputAt` at `speed`× real time.
    // As measured: the npm package's 4.1 (every 0.5 s), Debian's 5.1 with -stats_period 0.25, and a slower start.
    for (const planned of [2, 5, 15]) {
      for (const speed of [0.8, 2, 5]) {
        for (const [period, encodeAt, outputAt] of [[0.5, 0.05, 0.1], [0.25, 0.25, 0.45], [0.25, 0.3, 0.6]]) {
          const progress = estimate(planned);
          const finish = outputAt + planned / speed;
          for (let now = 0; now < finish; now += 0.05) {
            const report = encodeAt + Math.floor((now - encodeAt) / period + 1e-9) * period;
            if (now >= encodeAt && Math.abs(now - report) < 1e-6) progress.report(Math.max(0, (now - outputAt) * speed), now);
            const truth = finish - now;
            if (now < 1 || truth < 1) continue;
            const { etaSeconds } = progress.estimate(now);
            assert.ok(
              Math.abs(etaSeconds - truth) <= 0.5 * truth + 0.5,
              `planned ${planned} s at ${speed}×, reports every ${period} s from ${encodeAt} s, output from ${outputAt} s: ` +
                `eta ${etaSeconds} s at ${now.toFixed(2)} s, truly ${truth.toFixed(2)} s`,
            );
          }
        }
      }
    }
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
