import type { DeliveryOutcome, DeliveryState, WebhookDelivery, WebhookStore } from '../../spec/webhook-store.js';
import { type Database, databaseNow } from './database.js';

const statements = {
  // Due and not held: SKIP LOCKED lets deliverers of several processes claim side by side, each
  // its own. The lease runs on the database's clock.
  claim: `WITH taken AS (
      UPDATE webhook_deliveries SET lease_owner = $1, lease_expires_at = ${databaseNow} + $2
      WHERE id IN (SELECT id FROM webhook_deliveries
                   WHERE state = 'pending' AND next_attempt_at <= ${databaseNow}
                     AND (lease_expires_at IS NULL OR lease_expires_at < ${databaseNow})
                   ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
      RETURNING id, task_id AS "taskId", key_id AS "keyId", url, event_type AS "eventType", attempts, created_at AS "createdAt", next_attempt_at)
    SELECT id, "taskId", "keyId", url, "eventType", attempts, "createdAt" FROM taken ORDER BY next_attempt_at, id`,
  record: `UPDATE webhook_deliveries SET state = $3, attempts = attempts + 1, last_status_code = $4, last_error = $5,
      last_attempt_at = $6, next_attempt_at = $7, lease_owner = NULL, lease_expires_at = NULL
    WHERE id = $1 AND lease_owner = $2`,
  ofTask: `SELECT id, url, event_type AS "eventType", state, attempts, last_status_code AS "lastStatusCode", last_error AS "lastError",
      last_attempt_at AS "lastAttemptAt", next_attempt_at AS "nextAttemptAt", created_at AS "createdAt"
    FROM webhook_deliveries WHERE task_id = $1 AND key_id = $2 ORDER BY created_at, id`,
  nextDue: `SELECT min(next_attempt_at) AS due FROM webhook_deliveries WHERE state = 'pending'`,
};

/** Webhook deliveries in PostgreSQL. */
export class PgWebhooks implements WebhookStore {
  constructor(private readonly db: Database) {}

  async claimDueDeliveries(owner: string, leaseMs: number, limit: number): Promise<WebhookDelivery[]> {
    return (await this.db.query<WebhookDelivery>({ name: 'wan-claim-deliveries', text: statements.claim, values: [owner, leaseMs, limit] })).rows;
  }

  async recordDelivery(id: string, owner: string, outcome: DeliveryOutcome): Promise<boolean> {
    const { rowCount } = await this.db.query({
      text: statements.record,
      values: [
        id,
        owner,
        outcome.state === 'retry' ? 'pending' : outcome.state,
        outcome.statusCode,
        outcome.state === 'delivered' ? null : outcome.error,
        outcome.at,
        outcome.state === 'retry' ? outcome.nextAttemptAt : null,
      ],
    });
    return rowCount === 1;
  }

  async deliveriesOf(taskId: string, keyId: string): Promise<DeliveryState[]> {
    return (await this.db.query<DeliveryState>({ text: statements.ofTask, values: [taskId, keyId] })).rows;
  }

  async nextDeliveryDue(): Promise<number | undefined> {
    return (await this.db.query<{ due: number | null }>({ name: 'wan-next-delivery', text: statements.nextDue })).rows[0].due ?? undefined;
  }
}
