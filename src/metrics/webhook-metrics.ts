import { Counter, Histogram, type Registry } from 'prom-client';
import type { DeliveryAttemptOutcome, WebhookObserver } from '../spec/webhook-observer.js';

/** Seconds: an attempt gives up after 5 s; the last bucket holds a store that was slow to record it. */
const buckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Webhook delivery attempts this process made, first tries and retries apart. */
export class WebhookMetrics implements WebhookObserver {
  private readonly attempts: Counter<'outcome' | 'attempt'>;
  private readonly duration: Histogram<'outcome'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.attempts = new Counter({
      name: 'wan_webhook_attempts_total',
      help: 'Webhook delivery attempts by outcome (delivered, retry: failed and scheduled again, given_up, error: not made or not recorded) and attempt (first, retry).',
      labelNames: ['outcome', 'attempt'],
      registers,
    });
    this.duration = new Histogram({
      name: 'wan_webhook_attempt_seconds',
      help: 'Time one webhook delivery attempt took, its recording included.',
      labelNames: ['outcome'],
      buckets,
      registers,
    });
  }

  attempted(outcome: DeliveryAttemptOutcome, retry: boolean, durationMs: number): void {
    this.attempts.inc({ outcome, attempt: retry ? 'retry' : 'first' });
    this.duration.observe({ outcome }, durationMs / 1000);
  }
}
