import type Database from 'better-sqlite3';
import type { DeliveryOutcome, DeliveryState, WebhookDelivery, WebhookStore } from '../../spec/webhook-store.js';
import { openDatabase } from './open-database.js';

interface DeliveryRow {
  id: string;
  task_id: string;
  key_id: string;
  url: string;
  event_type: string;
  state: DeliveryState['state'];
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  last_attempt_at: number | null;
  next_attempt_at: number | null;
  created_at: number;
}

/**
 * Webhook deliveries in the embedded store. A delivery is created in the write that ends its task,
 * on the main connection, durably. Claims and attempt records go through a connection of their
 * own that commits without an fsync (WAL with synchronous NORMAL): each attempt costs two writes,
 * and an fsync each stopped the event loop for milliseconds. A power cut may forget the last
 * records, and then an attempt is made again under the same webhook-id, which receivers already
 * expect (delivery is at least once); it never loses a delivery.
 */
export class SqliteWebhooks implements WebhookStore {
  private readonly statements;
  private readonly claim: Database.Transaction<(owner: string, now: number, leaseMs: number, limit: number) => DeliveryRow[]>;
  private readonly db: Database.Database;

  constructor(file: string, private readonly clock: () => number) {
    const db = openDatabase(file, 'NORMAL');
    this.db = db;
    this.statements = {
      due: db.prepare(
        `SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= @now
           AND (lease_expires_at IS NULL OR lease_expires_at < @now)
         ORDER BY next_attempt_at LIMIT @limit`,
      ).pluck(),
      take: db.prepare(
        `UPDATE webhook_deliveries SET lease_owner = @owner, lease_expires_at = @expiresAt WHERE id = @id
         RETURNING id, task_id, key_id, url, event_type, attempts, created_at`,
      ),
      record: db.prepare(
        `UPDATE webhook_deliveries SET state = @state, attempts = attempts + 1, last_status_code = @statusCode, last_error = @error,
           last_attempt_at = @at, next_attempt_at = @nextAttemptAt, lease_owner = NULL, lease_expires_at = NULL
         WHERE id = @id AND lease_owner = @owner`,
      ),
      ofTask: db.prepare(
        `SELECT d.* FROM webhook_deliveries AS d WHERE d.task_id = @taskId AND d.key_id = @keyId ORDER BY d.created_at, d.id`,
      ),
      nextDue: db.prepare(`SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE state = 'pending'`).pluck(),
    };
    this.claim = db.transaction((owner: string, now: number, leaseMs: number, limit: number) => {
      const ids = this.statements.due.all({ now, limit }) as string[];
      return ids.map((id) => this.statements.take.get({ id, owner, expiresAt: now + leaseMs }) as DeliveryRow);
    });
  }

  async claimDueDeliveries(owner: string, leaseMs: number, limit: number): Promise<WebhookDelivery[]> {
    // IMMEDIATE: no other process can take the same deliveries between the select and the update.
    return this.claim.immediate(owner, this.clock(), leaseMs, limit).map((row) => ({
      id: row.id,
      taskId: row.task_id,
      keyId: row.key_id,
      url: row.url,
      eventType: row.event_type,
      attempts: row.attempts,
      createdAt: row.created_at,
    }));
  }

  async recordDelivery(id: string, owner: string, outcome: DeliveryOutcome): Promise<boolean> {
    return (
      this.statements.record.run({
        id,
        owner,
        state: outcome.state === 'retry' ? 'pending' : outcome.state,
        statusCode: outcome.statusCode,
        error: outcome.state === 'delivered' ? null : outcome.error,
        at: outcome.at,
        nextAttemptAt: outcome.state === 'retry' ? outcome.nextAttemptAt : null,
      }).changes === 1
    );
  }

  async deliveriesOf(taskId: string, keyId: string): Promise<DeliveryState[]> {
    return (this.statements.ofTask.all({ taskId, keyId }) as DeliveryRow[]).map((row) => ({
      id: row.id,
      url: row.url,
      eventType: row.event_type,
      state: row.state,
      attempts: row.attempts,
      lastStatusCode: row.last_status_code,
      lastError: row.last_error,
      lastAttemptAt: row.last_attempt_at,
      nextAttemptAt: row.next_attempt_at,
      createdAt: row.created_at,
    }));
  }

  async nextDeliveryDue(): Promise<number | undefined> {
    return (this.statements.nextDue.get() as number | null) ?? undefined;
  }

  close(): void {
    this.db.close();
  }
}
