/**
 * The waits between two checks of every task that an upstream engine follows, on one timer.
 *
 * A process may follow thousands of tasks at a cloud at once; a timer per task would be
 * thousands of timers. Here every wait is an entry of a min-heap ordered by deadline, and a
 * single timer is armed for the earliest one. The timer is unref'd: waiting tasks never keep a
 * process alive on their own.
 */

/** How the scheduler arms its one timer; replaceable so that tests can count timers. */
export interface SchedulerTimers {
  set(callback: () => void, delayMs: number): unknown;
  clear(handle: unknown): void;
}

export interface PollSchedulerOptions {
  timers?: SchedulerTimers;
  /** A monotonic clock in milliseconds; `performance.now` by default, so wall-clock jumps do not matter. */
  now?: () => number;
}

interface Sleeper {
  deadline: number;
  /** Arrival order, so that equal deadlines wake first come, first served. */
  order: number;
  settled: boolean;
  wake: () => void;
}

const unrefTimers: SchedulerTimers = {
  set: (callback, delayMs) => setTimeout(callback, delayMs).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Longest delay setTimeout accepts; a longer wait re-arms the timer when this one fires. */
const longestTimerMs = 2 ** 31 - 1;

export class PollScheduler {
  private readonly heap: Sleeper[] = [];
  private readonly timers: SchedulerTimers;
  private readonly now: () => number;
  private timer: { handle: unknown; firesAt: number } | undefined;
  private arrivals = 0;
  private sleeping = 0;
  private closed = false;

  constructor(options: PollSchedulerOptions = {}) {
    this.timers = options.timers ?? unrefTimers;
    this.now = options.now ?? (() => performance.now());
  }

  /** Sleepers not yet woken or aborted. */
  get size(): number {
    return this.sleeping;
  }

  /**
   * Resolves after `ms` milliseconds (at once once the scheduler is closed); rejects with the
   * signal's reason if it aborts first.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.closed) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const sleeper: Sleeper = {
        deadline: this.now() + Math.max(0, ms),
        order: this.arrivals++,
        settled: false,
        wake: () => {
          settle();
          resolve();
        },
      };
      const onAbort = () => {
        settle();
        reject(signal?.reason);
        // The entry stays in the heap, settled, and is dropped when it reaches the top.
      };
      const settle = () => {
        sleeper.settled = true;
        this.sleeping--;
        signal?.removeEventListener('abort', onAbort);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.sleeping++;
      this.push(sleeper);
      this.arm();
    });
  }

  /** Wakes every sleeper now; later sleeps resolve at once. For process shutdown. */
  close(): void {
    this.closed = true;
    this.disarm();
    const sleepers = this.heap.splice(0).sort(earlier);
    for (const sleeper of sleepers) if (!sleeper.settled) sleeper.wake();
  }

  private arm(): void {
    while (this.heap.length > 0 && this.heap[0].settled) this.pop();
    const first = this.heap[0];
    if (first === undefined) {
      this.disarm();
      return;
    }
    if (this.timer !== undefined && this.timer.firesAt <= first.deadline) return;
    this.disarm();
    const delay = Math.min(longestTimerMs, Math.max(0, first.deadline - this.now()));
    this.timer = { handle: this.timers.set(() => this.fire(), delay), firesAt: this.now() + delay };
  }

  private disarm(): void {
    if (this.timer === undefined) return;
    this.timers.clear(this.timer.handle);
    this.timer = undefined;
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.now();
    while (this.heap.length > 0 && this.heap[0].deadline <= now) {
      const sleeper = this.pop();
      if (!sleeper.settled) sleeper.wake();
    }
    this.arm();
  }

  private push(sleeper: Sleeper): void {
    const heap = this.heap;
    heap.push(sleeper);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (earlier(heap[parent], heap[index]) <= 0) break;
      [heap[parent], heap[index]] = [heap[index], heap[parent]];
      index = parent;
    }
  }

  private pop(): Sleeper {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        const right = left + 1;
        let smallest = index;
        if (left < heap.length && earlier(heap[left], heap[smallest]) < 0) smallest = left;
        if (right < heap.length && earlier(heap[right], heap[smallest]) < 0) smallest = right;
        if (smallest === index) break;
        [heap[smallest], heap[index]] = [heap[index], heap[smallest]];
        index = smallest;
      }
    }
    return top;
  }
}

function earlier(a: Sleeper, b: Sleeper): number {
  return a.deadline - b.deadline || a.order - b.order;
}

/** The scheduler every upstream engine of the process shares unless given another. */
export const sharedPollScheduler = new PollScheduler();
