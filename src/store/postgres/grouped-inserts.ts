import type { NewTask } from '../../spec/task-store.js';
import { TaskStatus } from '../../spec/task-status.js';
import type { ModelId } from '../../models/model.js';
import { Batches } from './batches.js';
import { countingInsert } from './counting-insert.js';
import { QueuedAnnouncements } from './queued-announcements.js';
import type { StatementLane } from './statement-lane.js';
import { type Database, queuedEvent, queuedTotal } from './database.js';

/**
 * How new tasks are grouped: one statement at a time, so the rows that arrive meanwhile make the
 * next group larger, and the database's CPU per row falls with the size of the group (counting
 * the totals, the commit). Measured with two in flight: groups of ~8 rows; with one, the same
 * submissions per second for ~30% less database CPU. A statement of one row costs the database
 * ~330 µs of CPU (the commit, counting the totals) and each further row ~17 µs: waiting up to
 * 2 ms for a group as large as the last (Batches) took 32 clients from ~10,000 submissions a
 * second to ~11,800, at 41–47 µs of database CPU each instead of 58–67. The bench's store floor
 * groups its rows the same way.
 */
export const groupLimits = { largest: 1000, lingerMs: 2 };

/**
 * New tasks without admission or idempotency (the common submission), the rows that arrive while
 * earlier ones are being committed written together (Batches): one statement, one commit (one
 * WAL flush) and at most one notification per model for the whole group, instead of one of each
 * per task (under load, one per model every announceEveryMs: QueuedAnnouncements). The commit's
 * cost is shared, so submissions under load are answered several times as fast. Every submitter
 * is answered after the commit of its row, and a failed statement fails every task of its group,
 * none of which was stored.
 *
 * The cap on queued tasks (Admission.maxQueuedTotal) is checked for a group as a whole: it is
 * stored only if all of its rows fit, so the cap is never passed by a group, though near the cap
 * a group may be refused where some of its rows would have fitted (they are told to retry).
 */
export class GroupedInserts {
  private readonly groups = new Batches<{ task: NewTask; cap: number | null }, boolean>(
    async (group) => {
      const caps = group.map((entry) => entry.cap).filter((cap) => cap !== null);
      const tasks = group.map((entry) => entry.task);
      const announced = this.announcements.announcesNow([...new Set(tasks.map((task) => task.model))]);
      const models = await this.write(tasks, caps.length > 0 ? Math.min(...caps) : null, announced);
      this.announcements.committed(models, announced);
      for (const model of models) this.db.events.publish({ type: 'queued', model });
      return group.map(() => models.length > 0);
    },
    groupLimits,
  );

  private readonly announcements: QueuedAnnouncements;
  /** The groups' own connection: each written the moment the last one is answered. */
  private readonly lane: StatementLane;

  constructor(private readonly db: Database) {
    this.lane = db.lane();
    this.announcements = new QueuedAnnouncements((models) =>
      db.write({ name: 'wan-announce-queued', text: `SELECT pg_notify($1, ${queuedEvent}) FROM unnest($2::text[]) AS models (model)`, values: [models] }),
    );
  }

  /** Stores the task unless the queue over every key holds `cap` tasks or more (null: no cap); answers whether it did. */
  insert(task: NewTask, cap: number | null): Promise<boolean> {
    return this.groups.add({ task, cap });
  }

  /** Writes the group if it fits under `cap`, announcing each model queued if `announce`; answers those models (none: not stored). */
  private async write(tasks: NewTask[], cap: number | null, announce: boolean): Promise<ModelId[]> {
    const { rows: queued } = await this.lane.query<{ model: ModelId }>(
      this.db.announcing({ name: 'wan-insert-task-group', text: insertGroup, values: [groupJson(tasks), cap, announce] }),
    );
    return queued.map((row) => row.model);
  }
}

/**
 * A group of new tasks as the one JSON text insertGroup reads ($2): one native serialisation,
 * each request an object (not a text escaped again into an array literal, element by element,
 * by the driver).
 */
export function groupJson(tasks: readonly NewTask[]): string {
  return JSON.stringify(
    tasks.map((task) => ({
      id: task.id,
      key_id: task.keyId,
      model: task.model,
      request: task.request,
      seed: task.seed,
      webhook_url: task.webhookUrl,
      billable_seconds: task.billableSeconds,
      created_at: task.createdAt,
    })),
  );
}

/**
 * Writes a group ($2, groupJson) if the queue over every key then holds at most $3 tasks (null: no
 * cap), counting it into the totals, and answers each model it queued, announced on channel $1
 * if $4. bench/grouped-insert.ts measures its database CPU against the store floor's statement.
 */
export const insertGroup = countingInsert(
  `INSERT INTO tasks (id, key_id, model, status, request_json, seed, webhook_url, billable_seconds, created_at)
    SELECT id, key_id, model, '${TaskStatus.Queued}', request, seed, webhook_url, billable_seconds, created_at
    FROM jsonb_to_recordset($2::jsonb)
      AS row (id text, key_id text, model text, request jsonb, seed bigint, webhook_url text, billable_seconds float8, created_at bigint)
    WHERE $3::bigint IS NULL OR ${queuedTotal} + jsonb_array_length($2::jsonb) <= $3`,
  `SELECT model, CASE WHEN $4::boolean THEN pg_notify($1, ${queuedEvent}) END FROM (SELECT DISTINCT model FROM inserted) AS models`,
);
