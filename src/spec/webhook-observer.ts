/** What one attempt of a webhook delivery came to, as recorded. */
export type DeliveryAttemptOutcome = 'delivered' | 'retry' | 'given_up' | 'error';

/**
 * What the webhook deliverer reports per attempt, for whoever counts (the metrics). Calls must be
 * cheap and must not throw.
 */
export interface WebhookObserver {
  /**
   * One attempt ended after `durationMs`; `retry` is whether it was a later attempt of a delivery
   * that failed before. `error`: the attempt could not be made or recorded (the store failed).
   */
  attempted(outcome: DeliveryAttemptOutcome, retry: boolean, durationMs: number): void;
}
