import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PollScheduler, type SchedulerTimers } from '../../src/engines/upstream/poll-scheduler.js';

/** Timers and a clock the test moves by hand; counts the timers armed at once. */
class ManualTime implements SchedulerTimers {
  now = 0;
  private pending = new Map<number, { callback: () => void; at: number }>();
  private nextHandle = 1;
  mostAtOnce = 0;
  armed = 0;

  set(callback: () => void, delayMs: number): unknown {
    const handle = this.nextHandle++;
    this.pending.set(handle, { callback, at: this.now + delayMs });
    this.armed++;
    this.mostAtOnce = Math.max(this.mostAtOnce, this.pending.size);
    return handle;
  }

  clear(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  get outstanding(): number {
    return this.pending.size;
  }

  /** Moves the clock, firing due timers in order, then lets resolved promises run. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      const due = [...this.pending.entries()].filter(([, timer]) => timer.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (due === undefined) break;
      this.pending.delete(due[0]);
      this.now = Math.max(this.now, due[1].at);
      due[1].callback();
      await flush();
    }
    this.now = end;
    await flush();
  }
}

async function flush(): Promise<void> {
  for (let turn = 0; turn < 5; turn++) await Promise.resolve();
}

function manualScheduler() {
  const time = new ManualTime();
  return { time, scheduler: new PollScheduler({ timers: time, now: () => time.now }) };
}

describe('poll scheduler', () => {
  test('sleepers wake in the order of their deadlines, equal deadlines in arrival order', async () => {
    const { time, scheduler } = manualScheduler();
    const woken: string[] = [];
    const sleep = (name: string, ms: number) => void scheduler.sleep(ms).then(() => woken.push(name));
    sleep('c', 300);
    sleep('a', 100);
    sleep('b1', 200);
    sleep('b2', 200);
    await time.advance(99);
    assert.deepEqual(woken, []);
    await time.advance(1);
    assert.deepEqual(woken, ['a']);
    await time.advance(200);
    assert.deepEqual(woken, ['a', 'b1', 'b2', 'c']);
    assert.equal(scheduler.size, 0);
    assert.equal(time.outstanding, 0, 'no timer left once nobody sleeps');
  });

  test('one timer at most, whatever the number of sleepers, re-armed when an earlier sleeper arrives', async () => {
    const { time, scheduler } = manualScheduler();
    let woken = 0;
    for (let index = 0; index < 500; index++) void scheduler.sleep(1000 - index).then(() => woken++);
    assert.equal(time.outstanding, 1);
    void scheduler.sleep(5).then(() => woken++);
    assert.equal(time.outstanding, 1, 'the earlier sleeper replaced the timer instead of adding one');
    await time.advance(5);
    assert.equal(woken, 1);
    await time.advance(1000);
    assert.equal(woken, 501);
    assert.equal(time.mostAtOnce, 1);
  });

  test('5,000 sleepers with random delays all wake, in deadline order, on one timer', async () => {
    const { time, scheduler } = manualScheduler();
    const delays = Array.from({ length: 5000 }, (_, index) => (index * 7919) % 60_000);
    const order: number[] = [];
    delays.forEach((delay, index) => void scheduler.sleep(delay).then(() => order.push(index)));
    assert.equal(scheduler.size, 5000);
    for (let step = 0; step < 60; step++) await time.advance(1000);
    assert.equal(order.length, 5000);
    const expected = delays.map((delay, index) => ({ delay, index })).sort((a, b) => a.delay - b.delay || a.index - b.index);
    assert.deepEqual(order, expected.map(({ index }) => index));
    assert.equal(time.mostAtOnce, 1);
    // Far fewer timers than sleepers: one per distinct wake-up time at most.
    assert.ok(time.armed <= new Set(delays).size + 1, `${time.armed} timers armed`);
  });

  test('with real timers, 5,000 sleepers wake in order, none early', async (t) => {
    const scheduler = new PollScheduler();
    // The scheduler's timer is unref'd; something must keep this test's event loop alive.
    const keepAlive = setInterval(() => {}, 1000);
    t.after(() => clearInterval(keepAlive));
    // A sleeper's deadline is its delay after a moment between `before` and `after` the call.
    const woken: { index: number; earliest: number; latest: number; wokeAt: number }[] = [];
    const sleeps = Array.from({ length: 5000 }, (_, index) => {
      const delay = (index * 37) % 150;
      const before = performance.now();
      const sleep = scheduler.sleep(delay);
      const window = { index, earliest: before + delay, latest: performance.now() + delay };
      return sleep.then(() => woken.push({ ...window, wokeAt: performance.now() }));
    });
    await Promise.all(sleeps);
    assert.equal(woken.length, 5000);
    for (const { index, earliest, wokeAt } of woken) assert.ok(wokeAt >= earliest, `sleeper ${index} woke ${earliest - wokeAt} ms early`);
    for (let position = 1; position < woken.length; position++) {
      const [previous, next] = [woken[position - 1], woken[position]];
      assert.ok(previous.earliest <= next.latest, `sleeper ${previous.index} woke before ${next.index}, whose deadline is earlier`);
    }
  });

  test('an abort rejects that sleeper with the signal reason and leaves the others alone', async () => {
    const { time, scheduler } = manualScheduler();
    const controller = new AbortController();
    const aborted = scheduler.sleep(100, controller.signal);
    let otherWoke = false;
    void scheduler.sleep(200).then(() => (otherWoke = true));
    controller.abort(new Error('stop'));
    await assert.rejects(aborted, /stop/);
    assert.equal(scheduler.size, 1);
    await time.advance(200);
    assert.ok(otherWoke);
    assert.equal(time.outstanding, 0);
  });

  test('an already aborted signal rejects at once', async () => {
    const { scheduler } = manualScheduler();
    await assert.rejects(scheduler.sleep(10, AbortSignal.abort(new Error('too late'))), /too late/);
    assert.equal(scheduler.size, 0);
  });

  test('close wakes every sleeper and later sleeps return at once', async () => {
    const { time, scheduler } = manualScheduler();
    const sleeps = [scheduler.sleep(1000), scheduler.sleep(60_000), scheduler.sleep(5)];
    scheduler.close();
    await Promise.all(sleeps);
    await scheduler.sleep(1_000_000);
    assert.equal(time.outstanding, 0);
    assert.equal(scheduler.size, 0);
  });

  test('the timer is unref\'d: a process with only sleepers can exit', () => {
    const scheduler = new PollScheduler();
    const controller = new AbortController();
    void scheduler.sleep(60_000, controller.signal).catch(() => undefined);
    const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
    const timers = handles.filter((handle) => (handle as { hasRef?: () => boolean }).hasRef?.() === true && handle?.constructor?.name === 'Timeout');
    assert.equal(timers.length, 0);
    controller.abort();
    scheduler.close();
  });
});
