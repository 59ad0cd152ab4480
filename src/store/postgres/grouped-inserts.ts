import type { NewTask } from '../../spec/task-store.js';
import { TaskStatus } from '../../spec/task-status.js';
import type { ModelId } from '../../models/model.js';
import { type Database, queuedEvent, queuedTotal } from './database.js';

/** Rows in one statement at most. */
const largestGroup = 1000;
/**
 * Statements in flight at once. More than one, so a group is being sent while another commits;
 * few, so that under load the rows gather into large groups instead of many small ones.
 */
const statementsInFlight = 2;

/**
 * New tasks without admission or idempotency (the common submission), the rows that arrive while
 * earlier ones are being committed written together: one statement, one commit (one WAL flush)
 * and one notification per model for the whole group, instead of one of each per task. The
 * commit's cost is shared, so submissions under load are answered several times as fast; a
 * lone submission still goes at once. Every submitter is answered after the commit of its row,
 * and a failed statement fails every task of its group, none of which was stored.
 *
 * The cap on queued tasks (Admission.maxQueuedTotal) is checked for a group as a whole: it is
 * stored only if all of its rows fit, so the cap is never passed by a group, though near the cap
 * a group may be refused where some of its rows would have fitted (they are told to retry).
 */
export class GroupedInserts {
  private waiting: { task: NewTask; cap: number | null; settle: (stored: boolean, error?: unknown) => void }[] = [];
  private inFlight = 0;

  constructor(private readonly db: Database) {}

  /** Stores the task unless the queue over every key holds `cap` tasks or more (null: no cap); answers whether it did. */
  insert(task: NewTask, cap: number | null): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ task, cap, settle: (stored, error) => (error === undefined ? resolve(stored) : reject(error)) });
      this.send();
    });
  }

  private send(): void {
    if (this.inFlight >= statementsInFlight || this.waiting.length === 0) return;
    const group = this.waiting.splice(0, largestGroup);
    this.inFlight++;
    const caps = group.map((entry) => entry.cap).filter((cap) => cap !== null);
    this.write(
      group.map((entry) => entry.task),
      caps.length > 0 ? Math.min(...caps) : null,
    ).then(
      (models) => {
        for (const model of models) this.db.events.publish({ type: 'queued', model });
        for (const entry of group) entry.settle(models.length > 0);
      },
      (error: unknown) => {
        for (const entry of group) entry.settle(false, error);
      },
    ).finally(() => {
      this.inFlight--;
      this.send();
    });
  }

  /** Writes the group if it fits under `cap`, announcing each model queued; answers those models (none: not stored). */
  private async write(tasks: NewTask[], cap: number | null): Promise<ModelId[]> {
    const { rows } = await this.db.write<{ model: ModelId }>({
      name: 'wan-insert-tasks',
      text: insertGroup,
      values: [
        tasks.map((task) => task.id),
        tasks.map((task) => task.keyId),
        tasks.map((task) => task.model),
        tasks.map((task) => JSON.stringify(task.request)),
        tasks.map((task) => task.seed),
        tasks.map((task) => task.webhookUrl),
        tasks.map((task) => task.billableSeconds),
        tasks.map((task) => task.createdAt),
        cap,
      ],
    });
    return rows.map((row) => row.model);
  }
}

const insertGroup = `WITH inserted AS (
    INSERT INTO tasks (id, key_id, model, status, request_json, seed, webhook_url, billable_seconds, created_at)
    SELECT id, key_id, model, '${TaskStatus.Queued}', request_json::jsonb, seed, webhook_url, billable_seconds, created_at
    FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::float8[], $9::bigint[])
      AS row (id, key_id, model, request_json, seed, webhook_url, billable_seconds, created_at)
    WHERE $10::bigint IS NULL OR ${queuedTotal} + cardinality($2::text[]) <= $10
    RETURNING model)
  SELECT model, pg_notify($1, ${queuedEvent}) FROM (SELECT DISTINCT model FROM inserted) AS models`;
