import { v7 as timeOrderedUuid } from 'uuid';
import type { ApiErrorBody } from '../../spec/api-error.js';
import type { EngineOperation } from '../../spec/engine.js';
import type {
  Admission,
  IdempotencyClaim,
  InsertOutcome,
  NewTask,
  QueueStats,
  StoredResult,
  TaskQuery,
  TaskRecord,
  TaskSnapshot,
  TaskStore,
} from '../../spec/task-store.js';
import { TaskStatus } from '../../spec/task-status.js';
import type { TaskUsage } from '../../spec/usage.js';
import type { ModelId } from '../../models/model.js';
import { columnList, decodeRow, processing, queued, recordFields, snapshotColumnList, snapshotFields, taskColumnList } from '../task-rows.js';
import { SnapshotCache, type VersionedRow } from '../snapshot-cache.js';
import { Batches } from './batches.js';
import { countingInsert } from './counting-insert.js';
import { GroupedInserts } from './grouped-inserts.js';
import { testModeError, testModeExtra } from '../test-mode-task.js';
import { startOfUtcDay, startOfUtcMonth } from '../utc-periods.js';
import { announcingChange, type Database, databaseNow, queuedEvent, queuedTotal, type Transaction } from './database.js';
import { locks } from './locks.js';
import type { StatementLane } from './statement-lane.js';

const inFlight = `status IN (${queued}, ${processing})`;
type Changed = { id: string; version: number; status: TaskStatus };

/** A new task's columns and the cap on queued tasks, in the order of insertQueued's parameters. */
function newTaskValues(task: NewTask, admission: Admission | undefined): unknown[] {
  const values = [task.id, task.keyId, task.model, JSON.stringify(task.request), task.seed, task.webhookUrl, task.billableSeconds, task.createdAt];
  return [...values, admission?.maxQueuedTotal ?? null];
}
/**
 * Inserts the task when the queue over every key is shorter than the last parameter (NULL: no
 * cap); no row comes back when it is not. Read in the insert itself, without a lock: submissions
 * committing at the same moment on other connections are not seen, so the cap can be passed by at
 * most as many tasks as connections insert at once.
 */
const insertQueued = countingInsert(
  `INSERT INTO tasks (id, key_id, model, status, request_json, seed, webhook_url, billable_seconds, created_at)
    SELECT $1::text, $2::text, $3::text, ${queued}, $4::jsonb, $5::bigint, $6::text, $7::float8, $8::bigint
    WHERE $9::bigint IS NULL OR ${queuedTotal} < $9`,
  'SELECT model FROM inserted',
);

const statements = {
  queuedTotal: `SELECT ${queuedTotal}::float8 AS queued`,
  insertFinished: countingInsert(
    `INSERT INTO tasks (id, key_id, model, status, request_json, seed, webhook_url, billable_seconds, created_at,
      started_at, completed_at, progress_percent, extra_json, error_json)
    VALUES ($1, $2, $3, $8, $4, $5, $6, 0, $7, $7, $7,
      CASE $8 WHEN '${TaskStatus.Succeed}' THEN 100 ELSE 0 END, '${testModeExtra}',
      CASE $8 WHEN '${TaskStatus.Failed}' THEN '${testModeError}'::jsonb END)`,
    'SELECT count(*) FROM inserted',
  ),
  insertDelivery: `INSERT INTO webhook_deliveries (id, task_id, key_id, url, event_type, next_attempt_at, created_at)
    VALUES ($1, $2, $3, $4, 'ASYNC_TASK_RESULT', $5, $5)`,
  findIdempotency: `SELECT body_hash, task_id FROM idempotency_keys WHERE key_id = $1 AND idempotency_key = $2 AND expires_at > $3`,
  // An expired key of the same name is replaced: it answers the new task from now on.
  saveIdempotency: `INSERT INTO idempotency_keys (key_id, idempotency_key, body_hash, task_id, expires_at) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (key_id, idempotency_key) DO UPDATE SET body_hash = excluded.body_hash, task_id = excluded.task_id, expires_at = excluded.expires_at`,
  get: `SELECT ${taskColumnList} FROM tasks WHERE id = $1`,
  // Many tasks' snapshots in one statement, each task's columns only when its version differs from
  // the one the caller has decoded (-1: none).
  snapshots: `SELECT wanted.id, t.version, s.* FROM unnest($1::text[], $2::int[]) AS wanted (id, kept)
    JOIN tasks AS t ON t.id = wanted.id
    LEFT JOIN LATERAL (SELECT ${columnList(snapshotFields, 't')} WHERE t.version <> wanted.kept) AS s ON true`,
  // Expired leases first, of any model: a worker already began them, and one that holds a place on
  // its engine keeps it (that place would otherwise keep it from ever being resumed). Never one of
  // the asking worker's own: it still follows that task (its renewals could not be written for a
  // while) and will finish it. COALESCE looks for a queued task only when no lease
  // expired; SKIP LOCKED lets workers lease side by side without waiting for each other.
  lease: announcingChange(`UPDATE tasks SET version = version + 1, status = ${processing}, lease_owner = $2,
      lease_expires_at = ${databaseNow} + $3, attempts = attempts + 1
    WHERE id = COALESCE(
      (SELECT id FROM tasks WHERE status = ${processing} AND lease_expires_at < ${databaseNow} AND lease_owner <> $2
       ORDER BY lease_expires_at LIMIT 1 FOR UPDATE SKIP LOCKED),
      (SELECT id FROM tasks WHERE status = ${queued} AND model = ANY($4) ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED))
    RETURNING ${taskColumnList}`),
  // The lease is not part of what clients see, so the version stays and nothing is announced.
  renew: `UPDATE tasks SET lease_expires_at = ${databaseNow} + $2 WHERE lease_owner = $1 AND status = ${processing} RETURNING id`,
  // Run after the engine's lock is held (claimEngine), so the count sees every claim committed before.
  claimEngine: `UPDATE tasks SET engine = $3
    WHERE id = $1 AND lease_owner = $2 AND status = ${processing}
      AND (SELECT count(*) FROM tasks AS other WHERE other.status = ${processing} AND other.engine = $3 AND other.id <> $1
             AND ($5 = 'cluster' OR other.lease_owner = $2)) < $4`,
  unclaimEngine: `UPDATE tasks SET engine = NULL WHERE id = $1 AND lease_owner = $2 AND status = ${processing}`,
  engineLoad: `SELECT engine, count(*) AS tasks FROM tasks WHERE status = ${processing} AND engine IS NOT NULL GROUP BY engine`,
  // Both read the partial index of queued tasks (tasks_queued): the count stops at the cap.
  queueStats: `SELECT (SELECT count(*) FROM (SELECT 1 FROM tasks WHERE status = ${queued} LIMIT $1) AS capped) AS queued,
    (SELECT min(created_at) FROM tasks WHERE status = ${queued}) AS oldest`,
  saveOperation: announcingChange(`UPDATE tasks SET version = version + 1, operation_json = $4, started_at = COALESCE(started_at, $5)
    WHERE id = $2 AND lease_owner = $3 AND status = ${processing} RETURNING id, version, status`),
  saveProgress: announcingChange(`UPDATE tasks SET version = version + 1, progress_percent = $4, eta_seconds = $5
    WHERE id = $2 AND lease_owner = $3 AND status = ${processing} RETURNING id, version, status`),
  // The end and its webhook delivery in one statement, announced together.
  finish: announcingChange(
    `UPDATE tasks SET version = version + 1, status = $4, results_json = $5, extra_json = $6, error_json = $7,
       usage_json = $8, billed_seconds = $9, cost = $10, progress_percent = $11, eta_seconds = 0, completed_at = $12,
       lease_owner = NULL, lease_expires_at = NULL
     WHERE id = $2 AND lease_owner = $3 AND status = ${processing} RETURNING id, version, status, key_id, webhook_url`,
    {
      ctes: `delivery AS (INSERT INTO webhook_deliveries (id, task_id, key_id, url, event_type, next_attempt_at, created_at)
        SELECT $13, id, key_id, webhook_url, 'ASYNC_TASK_RESULT', $12, $12 FROM changed WHERE webhook_url IS NOT NULL RETURNING id)`,
      columns: `(SELECT count(pg_notify($1, '{"type":"delivery"}')) FROM delivery) AS deliveries`,
    },
  ),
  // An orderly hand-back gives back the attempt its lease counted: only workers that died count.
  release: announcingChange(
    `UPDATE tasks SET version = version + 1, status = ${queued}, lease_owner = NULL, lease_expires_at = NULL, attempts = attempts - 1
     WHERE id = $2 AND lease_owner = $3 AND status = ${processing} RETURNING id, version, status, model`,
    { columns: `pg_notify($1, ${queuedEvent})` },
  ),
  lockOwn: 'SELECT status, key_id FROM tasks WHERE id = $1 FOR UPDATE',
  cancel: `UPDATE tasks SET version = version + 1, status = '${TaskStatus.Failed}', error_json = $3, progress_percent = 0,
      eta_seconds = 0, completed_at = $4, lease_owner = NULL, lease_expires_at = NULL
    WHERE id = $1 AND key_id = $2 AND ${inFlight} RETURNING id, version, status, webhook_url, key_id`,
  endedResults: `SELECT results_json, results_expired_at FROM tasks WHERE id = $1 AND NOT ${inFlight}`,
  deleteDeliveries: 'DELETE FROM webhook_deliveries WHERE task_id = $1',
  deleteTask: 'DELETE FROM tasks WHERE id = $1',
};

/** The limits in the order they are checked, and how each is counted over the key's tasks. */
const counters: { limit: keyof Admission; seconds: boolean }[] = [
  { limit: 'maxInFlight', seconds: false },
  { limit: 'maxQueued', seconds: false },
  { limit: 'maxSecondsPerDay', seconds: true },
  { limit: 'maxSecondsPerMonth', seconds: true },
];

/** Whether any of the key's own limits is asked (the queue's cap alone needs no transaction). */
function keyLimited(admission: Admission | undefined): boolean {
  return admission !== undefined && counters.some(({ limit }) => admission[limit] !== undefined);
}

/**
 * How polls of tasks not kept fresh are grouped: read together when they arrive together, one
 * statement at a time. Under load each statement then carries twice as many ids as with two in
 * flight, and the database, which shares the machine, spends less per poll (random polls of
 * 200,000 tasks, bench probes: 33–35% of the bare GET with two in flight, 46–54% with one). The
 * bench's store floor groups its reads the same way.
 */
export const snapshotReadLimits = { largest: 500 };

/**
 * Tasks in PostgreSQL. Every write that clients can see announces itself in the statement (or
 * transaction) that makes it, so other processes hear of it exactly when it commits; this
 * process's listeners hear of it as soon as the write returns.
 */
export class PgTasks implements TaskStore {
  private readonly snapshots = new SnapshotCache();
  private readonly groupedInserts: GroupedInserts;
  private readonly snapshotReads = new Batches<{ id: string; keptVersion: number }, VersionedRow>(
    async (reads) => {
      const { rows } = await this.readLane.query({
        name: 'wan-snapshots',
        text: statements.snapshots,
        values: [reads.map((read) => read.id), reads.map((read) => read.keptVersion)],
        rowMode: 'array',
      });
      const byId = new Map<unknown, unknown[]>(rows.map((row: unknown[]) => [row[0], row.slice(1)]));
      return reads.map((read) => byId.get(read.id));
    },
    snapshotReadLimits,
  );
  /** The batched reads' own connection: each written the moment the last one is answered. */
  private readonly readLane: StatementLane;

  constructor(private readonly db: Database) {
    this.readLane = db.lane();
    this.groupedInserts = new GroupedInserts(db);
    db.events.subscribe((event) => {
      if (event.type === 'changed') this.snapshots.drop(event.taskId, event.version);
    });
  }

  async insert(
    task: NewTask,
    options: { admission?: Admission; idempotency?: IdempotencyClaim; finishedAs?: TaskStatus } = {},
  ): Promise<InsertOutcome> {
    const { admission } = options;
    if (!keyLimited(admission) && !options.idempotency && !options.finishedAs) {
      // The common case: no transaction, one statement shared with the tasks submitted meanwhile.
      const stored = await this.groupedInserts.insert(task, admission?.maxQueuedTotal ?? null);
      if (!stored) return this.queueFull(this.db, admission!.maxQueuedTotal!);
      return { outcome: 'created', id: task.id };
    }
    return this.db.transaction((transaction) => this.admit(transaction, task, options));
  }

  /**
   * Admission and idempotency of one submission. The key's lock makes its submissions, on every
   * process, take turns from the counts to the insert, so no two pass a limit together; the
   * idempotency key's primary key would refuse a second task of the same key even without it.
   */
  private async admit(
    transaction: Transaction,
    task: NewTask,
    options: { admission?: Admission; idempotency?: IdempotencyClaim; finishedAs?: TaskStatus },
  ): Promise<InsertOutcome> {
    const { admission, idempotency, finishedAs } = options;
    if (keyLimited(admission) || idempotency) {
      await transaction.query({ text: 'SELECT pg_advisory_xact_lock($1, hashtext($2))', values: [locks.submissions, task.keyId] });
    }
    if (idempotency) {
      const { rows } = await transaction.query<{ body_hash: string; task_id: string }>({
        name: 'wan-find-idempotency',
        text: statements.findIdempotency,
        values: [task.keyId, idempotency.key, task.createdAt],
      });
      if (rows[0]) return { outcome: rows[0].body_hash === idempotency.bodyHash ? 'repeated' : 'conflict', id: rows[0].task_id };
    }
    if (admission) {
      const refused = await this.refusal(transaction, task, admission);
      if (refused) return refused;
    }
    if (finishedAs) {
      // Never run, so it bills nothing.
      const values = [task.id, task.keyId, task.model, JSON.stringify(task.request), task.seed, task.webhookUrl, task.createdAt, finishedAs];
      await transaction.query({ text: statements.insertFinished, values });
      if (task.webhookUrl) {
        await transaction.query({ text: statements.insertDelivery, values: [timeOrderedUuid(), task.id, task.keyId, task.webhookUrl, task.createdAt] });
        transaction.announce({ type: 'delivery' });
      }
    } else {
      const { rowCount } = await transaction.query({ name: 'wan-insert-admitted', text: insertQueued, values: newTaskValues(task, admission) });
      if (rowCount === 0) return this.queueFull(transaction, admission!.maxQueuedTotal!);
      transaction.announce({ type: 'queued', model: task.model });
    }
    if (idempotency) {
      await transaction.query({
        name: 'wan-save-idempotency',
        text: statements.saveIdempotency,
        values: [task.keyId, idempotency.key, idempotency.bodyHash, task.id, idempotency.expiresAt],
      });
    }
    return { outcome: 'created', id: task.id };
  }

  /** The refusal of a task that found the queue over every key full. */
  private async queueFull(db: Pick<Transaction, 'query'>, limitValue: number): Promise<InsertOutcome> {
    const { rows } = await db.query<{ queued: number }>({ name: 'wan-queued-total', text: statements.queuedTotal });
    return { outcome: 'refused', limit: 'maxQueuedTotal', current: Number(rows[0].queued ?? 0), limitValue };
  }

  /**
   * Reads, in one statement, the key's totals the asked limits need (kept by the count_key_tasks
   * trigger: a few rows, however many tasks the key has); answers the first limit the task would pass.
   */
  private async refusal(transaction: Transaction, task: NewTask, admission: Admission): Promise<InsertOutcome | undefined> {
    const asked = counters.filter(({ limit }) => admission[limit] !== undefined);
    if (asked.length === 0) return undefined;
    const values: unknown[] = [task.keyId];
    const parameter = (value: unknown) => `$${values.push(value)}`;
    const columns = asked.map(({ limit }) => {
      if (limit === 'maxInFlight') return '(SELECT COALESCE(sum(in_flight), 0) FROM key_counts WHERE key_id = $1)';
      if (limit === 'maxQueued') return '(SELECT COALESCE(sum(queued), 0) FROM key_counts WHERE key_id = $1)';
      const [span, startsAt] = limit === 'maxSecondsPerDay' ? ['day', startOfUtcDay(task.createdAt)] : ['month', startOfUtcMonth(task.createdAt)];
      return `(SELECT COALESCE(sum(millis), 0) / 1000.0 FROM key_seconds WHERE key_id = $1 AND span = ${parameter(span)} AND starts_at = ${parameter(startsAt)})::float8`;
    });
    const { rows: [counts] } = await transaction.query({ text: `SELECT ${columns.join(', ')}`, values, rowMode: 'array' });
    for (const [index, { limit, seconds }] of asked.entries()) {
      const current = Number(counts[index]);
      const limitValue = admission[limit]!;
      // Seconds count this task's own; tasks count only those already there.
      if ((seconds ? current + task.billableSeconds : current + 1) > limitValue) return { outcome: 'refused', limit, current, limitValue };
    }
    return undefined;
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    const { rows } = await this.db.query({ name: 'wan-get-task', text: statements.get, values: [id], rowMode: 'array' });
    return rows[0] && decodeRow<TaskRecord>(recordFields, rows[0]);
  }

  /**
   * A kept snapshot is answered without a round trip while fresh (SnapshotCache); otherwise one
   * round trip checks it, shared with the other polls of the moment (snapshotReads), and the
   * columns are sent only when the version moved. The version lives in the row, and changes are
   * announced (LISTEN/NOTIFY), so this holds with any number of processes writing.
   */
  getSnapshot(id: string): Promise<TaskSnapshot | undefined> {
    return this.snapshots.read(id, (id, keptVersion) => this.snapshotReads.add({ id, keptVersion }));
  }

  async list(keyId: string, query: TaskQuery): Promise<TaskSnapshot[]> {
    const values: unknown[] = [keyId, query.limit];
    const conditions = ['key_id = $1'];
    if (query.status) conditions.push(`status = $${values.push(query.status)}`);
    if (query.model) conditions.push(`model = $${values.push(query.model)}`);
    if (query.after) conditions.push(`id ${query.order === 'newest' ? '<' : '>'} $${values.push(query.after)}`);
    // Ids are time-ordered: the order of ids is the order of creation.
    const { rows } = await this.db.query({
      text: `SELECT ${snapshotColumnList} FROM tasks WHERE ${conditions.join(' AND ')}
        ORDER BY id ${query.order === 'newest' ? 'DESC' : 'ASC'} LIMIT $2`,
      values,
      rowMode: 'array',
    });
    return rows.map((row) => decodeRow<TaskSnapshot>(snapshotFields, row));
  }

  async leaseNext(owner: string, leaseMs: number, models: readonly ModelId[]): Promise<TaskRecord | undefined> {
    const { rows } = await this.db.write({ name: 'wan-lease', text: statements.lease, values: [owner, leaseMs, models], rowMode: 'array' });
    if (!rows[0]) return undefined;
    const task = decodeRow<TaskRecord>(recordFields, rows[0]);
    this.changed([task]);
    return task;
  }

  async renewLeases(owner: string, leaseMs: number): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>({ name: 'wan-renew', text: statements.renew, values: [owner, leaseMs] });
    return rows.map((row) => row.id);
  }

  async claimEngine(id: string, owner: string, engine: string | null, capacity: number, scope: 'process' | 'cluster'): Promise<boolean> {
    if (engine === null) {
      return (await this.db.query({ text: statements.unclaimEngine, values: [id, owner] })).rowCount === 1;
    }
    // The engine's lock is taken before the counting statement begins, so that statement's
    // snapshot holds every place claimed before: two processes cannot both take the last one.
    return this.db.transaction(async (transaction) => {
      await transaction.query({ text: 'SELECT pg_advisory_xact_lock($1, hashtext($2))', values: [locks.enginePlaces, engine] });
      const claimed = await transaction.query({ name: 'wan-claim-engine', text: statements.claimEngine, values: [id, owner, engine, capacity, scope] });
      return claimed.rowCount === 1;
    });
  }

  async engineLoad(): Promise<Record<string, number>> {
    const { rows } = await this.db.query<{ engine: string; tasks: number }>({ name: 'wan-engine-load', text: statements.engineLoad });
    return Object.fromEntries(rows.map((row) => [row.engine, row.tasks]));
  }

  async queueStats(countUpTo: number): Promise<QueueStats> {
    const { rows } = await this.db.query<{ queued: number; oldest: number | null }>({
      name: 'wan-queue-stats',
      text: statements.queueStats,
      values: [countUpTo],
    });
    return { queued: rows[0].queued, oldestCreatedAt: rows[0].oldest };
  }

  async saveOperation(id: string, owner: string, operation: EngineOperation, startedAt: number): Promise<boolean> {
    const { rows } = await this.db.write<Changed>({
      name: 'wan-save-operation',
      text: statements.saveOperation,
      values: [id, owner, JSON.stringify(operation), startedAt],
    });
    return this.changed(rows);
  }

  async saveProgress(id: string, owner: string, progressPercent: number, etaSeconds: number): Promise<boolean> {
    const { rows } = await this.db.write<Changed>({
      name: 'wan-save-progress',
      text: statements.saveProgress,
      values: [id, owner, Math.round(progressPercent), Math.round(etaSeconds)],
    });
    return this.changed(rows);
  }

  async succeed(
    id: string,
    owner: string,
    end: { results: StoredResult[]; extra: Record<string, unknown>; usage: TaskUsage | null },
    now: number,
  ): Promise<boolean> {
    return this.finish(id, owner, TaskStatus.Succeed, { ...end, error: null }, now);
  }

  async fail(
    id: string,
    owner: string,
    end: { error: ApiErrorBody; extra: Record<string, unknown>; usage: TaskUsage | null },
    now: number,
  ): Promise<boolean> {
    return this.finish(id, owner, TaskStatus.Failed, { ...end, results: [] }, now);
  }

  private async finish(
    id: string,
    owner: string,
    status: TaskStatus,
    end: { results: StoredResult[]; extra: Record<string, unknown>; usage: TaskUsage | null; error: ApiErrorBody | null },
    now: number,
  ): Promise<boolean> {
    const { rows } = await this.db.write<Changed & { webhook_url: string | null }>({
      name: 'wan-finish',
      text: statements.finish,
      values: [
        id,
        owner,
        status,
        JSON.stringify(end.results),
        JSON.stringify(end.extra),
        end.error && JSON.stringify(end.error),
        end.usage && JSON.stringify(end.usage),
        end.usage?.billedSeconds ?? null,
        end.usage?.cost ?? null,
        status === TaskStatus.Succeed ? 100 : 0,
        now,
        timeOrderedUuid(),
      ],
    });
    const ended = this.changed(rows);
    if (rows[0]?.webhook_url) this.db.events.publish({ type: 'delivery' });
    return ended;
  }

  async release(id: string, owner: string): Promise<boolean> {
    const { rows } = await this.db.write<Changed & { model: ModelId }>({ name: 'wan-release', text: statements.release, values: [id, owner] });
    const released = this.changed(rows);
    if (rows[0]) this.db.events.publish({ type: 'queued', model: rows[0].model });
    return released;
  }

  async cancel(id: string, keyId: string, error: ApiErrorBody, now: number): Promise<{ cancelled: boolean; task: TaskSnapshot } | undefined> {
    const outcome = await this.db.transaction(async (transaction) => {
      const { rows: [before] } = await transaction.query<{ status: TaskStatus; key_id: string }>({ text: statements.lockOwn, values: [id] });
      if (!before || before.key_id !== keyId) return undefined;
      const { rows: [row] } = await transaction.query<Changed & { webhook_url: string | null; key_id: string }>({
        text: statements.cancel,
        values: [id, keyId, JSON.stringify(error), now],
      });
      if (row) {
        transaction.announce({ type: 'changed', taskId: id, version: row.version, status: row.status });
        if (before.status === TaskStatus.Processing) transaction.announce({ type: 'cancelled', taskId: id });
        if (row.webhook_url) {
          await transaction.query({ text: statements.insertDelivery, values: [timeOrderedUuid(), id, row.key_id, row.webhook_url, now] });
          transaction.announce({ type: 'delivery' });
        }
      }
      return { cancelled: row !== undefined };
    });
    return outcome && { cancelled: outcome.cancelled, task: (await this.getSnapshot(id))! };
  }

  async delete(id: string, keyId: string): Promise<{ deleted: boolean; resultKeys: string[] } | undefined> {
    const outcome = await this.db.transaction(async (transaction) => {
      const { rows: [own] } = await transaction.query<{ key_id: string }>({ text: statements.lockOwn, values: [id] });
      if (!own || own.key_id !== keyId) return undefined;
      const { rows: [ended] } = await transaction.query<{ results_json: string; results_expired_at: number | null }>({
        text: statements.endedResults,
        values: [id],
      });
      if (!ended) return { deleted: false, resultKeys: [] };
      await transaction.query({ text: statements.deleteDeliveries, values: [id] });
      await transaction.query({ text: statements.deleteTask, values: [id] });
      const results = JSON.parse(ended.results_json) as StoredResult[];
      return { deleted: true, resultKeys: ended.results_expired_at === null ? results.map((result) => result.key) : [] };
    });
    if (outcome?.deleted) this.snapshots.drop(id);
    return outcome;
  }

  /** Tells this process's listeners about a write that changed what clients see; answers whether it wrote. */
  private changed(rows: readonly Changed[]): boolean {
    const row = rows[0];
    if (!row) return false;
    this.db.events.publish({ type: 'changed', taskId: row.id, version: row.version, status: row.status });
    return true;
  }
}
