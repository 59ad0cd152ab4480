/** One event to deliver to one webhook URL, retried until it is taken or given up. */
export interface WebhookDelivery {
  /** `webhook-id`: the same on every retry of this event. */
  id: string;
  taskId: string;
  keyId: string;
  url: string;
  /** `ASYNC_TASK_RESULT`. */
  eventType: string;
  attempts: number;
  createdAt: number;
}

export interface DeliveryState {
  id: string;
  url: string;
  eventType: string;
  /** `pending` until a 2xx (`delivered`), a 410 or the last retry (`given_up`). */
  state: 'pending' | 'delivered' | 'given_up';
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: number | null;
  nextAttemptAt: number | null;
  createdAt: number;
}

export type DeliveryOutcome =
  | { state: 'delivered'; statusCode: number; at: number }
  | { state: 'retry'; statusCode: number | null; error: string; at: number; nextAttemptAt: number }
  | { state: 'given_up'; statusCode: number | null; error: string; at: number };

/**
 * Webhook deliveries, stored in the same write as the end of their task, so none is lost to a
 * crash; each due delivery is taken by one process at a time under a lease.
 */
export interface WebhookStore {
  /** Takes up to `limit` deliveries that are due and not held by another process, for `leaseMs`. */
  claimDueDeliveries(owner: string, leaseMs: number, limit: number): Promise<WebhookDelivery[]>;
  /** Records one attempt of a delivery `owner` holds; false when its lease was lost. */
  recordDelivery(id: string, owner: string, outcome: DeliveryOutcome): Promise<boolean>;
  /** Deliveries of one task of `keyId`, oldest first. */
  deliveriesOf(taskId: string, keyId: string): Promise<DeliveryState[]>;
  /** When the next pending delivery is due (epoch ms), if any: how long a deliverer may sleep. */
  nextDeliveryDue(): Promise<number | undefined>;
}
