import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { TaskEvents } from '../spec/task-events.js';
import type { DeliveryAttemptOutcome, WebhookObserver } from '../spec/webhook-observer.js';
import type { WebhookDelivery, WebhookStore } from '../spec/webhook-store.js';
import type { DeliveryAttempt } from './delivery-attempt.js';
import { deliveryOutcome } from './retry-schedule.js';

export interface WebhookDelivererOptions {
  store: WebhookStore;
  events: TaskEvents;
  attempt: DeliveryAttempt;
  logger: Logger;
  /** Waits between attempts (`webhook_retry_seconds`), in ms. */
  schedule: readonly number[];
  /** Deliveries this process makes at once. */
  concurrency: number;
  /** How long a claimed delivery is this process's: longer than an attempt can take. */
  leaseMs?: number;
  /** How often to look for deliveries no event announced (those of other processes). */
  pollMs?: number;
  observer?: WebhookObserver;
  clock?: () => number;
}

/** After a look that found nothing claimable though something is due (held by another process). */
const busyRetryMs = 1000;

/**
 * Makes the webhook deliveries the store holds: claims due ones under a lease (so with several
 * processes each delivery is made by one of them), at most `concurrency` at once, and records
 * each attempt's outcome. It wakes on the store's `delivery` event and otherwise sleeps until the
 * next delivery is due, with a slow poll for what other processes stored.
 */
export class WebhookDeliverer {
  readonly owner = `${hostname()}:${process.pid}:webhooks:${randomBytes(4).toString('hex')}`;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stop = new AbortController();
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly clock: () => number;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private loop: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly options: WebhookDelivererOptions) {
    this.leaseMs = options.leaseMs ?? 30_000;
    this.pollMs = options.pollMs ?? 2000;
    this.clock = options.clock ?? Date.now;
  }

  start(): void {
    if (this.options.concurrency === 0 || this.loop) return;
    this.unsubscribe = this.options.events.subscribe((event) => {
      if (event.type === 'delivery') this.wake();
    });
    this.loop = this.run();
  }

  /** Stops claiming, and lets the attempts in flight end (an attempt lasts 5 s at most). */
  async close(): Promise<void> {
    this.unsubscribe?.();
    this.stop.abort();
    this.wake();
    await this.loop;
    await Promise.all(this.inFlight);
  }

  private wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  private async run(): Promise<void> {
    while (!this.stop.signal.aborted) {
      this.woken = false;
      const free = this.options.concurrency - this.inFlight.size;
      let claimed: WebhookDelivery[] = [];
      if (free > 0) {
        try {
          claimed = await this.options.store.claimDueDeliveries(this.owner, this.leaseMs, free);
        } catch (error) {
          this.options.logger.error({ err: error }, 'cannot claim webhook deliveries');
        }
        for (const delivery of claimed) this.track(this.deliver(delivery));
        // Every slot was filled: more may be due at once.
        if (claimed.length === free) continue;
      }
      await this.sleep(free > 0 ? await this.untilNextDue() : this.pollMs);
    }
  }

  /** How long to sleep: until the next delivery is due, at most a poll interval. */
  private async untilNextDue(): Promise<number> {
    let next: number | undefined;
    try {
      next = await this.options.store.nextDeliveryDue();
    } catch (error) {
      this.options.logger.error({ err: error }, 'cannot read when the next webhook delivery is due');
      return this.pollMs;
    }
    if (next === undefined) return this.pollMs;
    // Due already, yet nothing more could be claimed: it is held (by this process or another).
    const wait = next - this.clock();
    return wait <= 0 ? busyRetryMs : Math.min(wait, this.pollMs);
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken || this.stop.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = undefined;
        done();
      };
    });
  }

  /**
   * Claims are writes: while many deliveries are due, the loop claims again only once half the
   * slots are free, so claims come in batches rather than one per finished attempt.
   */
  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => {
      this.inFlight.delete(work);
      if (this.inFlight.size <= this.options.concurrency / 2) this.wake();
    });
  }

  private async deliver(delivery: WebhookDelivery): Promise<void> {
    const log = this.options.logger.child({ task_id: delivery.taskId, delivery_id: delivery.id, attempt: delivery.attempts + 1 });
    const began = performance.now();
    let counted: DeliveryAttemptOutcome = 'error';
    try {
      const result = await this.options.attempt.run(delivery);
      const outcome = deliveryOutcome(result, delivery.attempts, this.options.schedule, this.clock());
      const recorded = await this.options.store.recordDelivery(delivery.id, this.owner, outcome);
      // Unrecorded, the attempt is made again by whichever process takes the delivery up.
      if (recorded) counted = outcome.state;
      if (!recorded) log.warn('webhook attempt not recorded: its lease ran out, another process takes it up');
      else if (outcome.state === 'delivered') log.info({ status_code: outcome.statusCode }, 'webhook delivered');
      else log.warn({ state: outcome.state, status_code: outcome.statusCode, error: outcome.error }, 'webhook attempt failed');
    } catch (error) {
      // The store or the task's view failed: the lease runs out and the delivery is taken up again.
      log.error({ err: error }, 'webhook attempt could not be made or recorded');
    } finally {
      this.options.observer?.attempted(counted, delivery.attempts > 0, performance.now() - began);
    }
  }
}
