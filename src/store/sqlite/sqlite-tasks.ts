import type Database from 'better-sqlite3';
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
import type { LocalEvents } from '../local-events.js';
import { startOfUtcDay, startOfUtcMonth } from '../utc-periods.js';
import type { InsertCommitter } from './insert-committer.js';
import type { SnapshotReader } from './snapshot-reader.js';
import { decodeRow, processing, queued, recordFields, snapshotColumnList, snapshotFields, taskColumnList } from '../task-rows.js';
import { SnapshotCache } from '../snapshot-cache.js';

type TaskRow = unknown[];
type Change = { version: number; status: TaskStatus };

/**
 * Tasks in the embedded store. New tasks are committed by a thread of their own (InsertCommitter),
 * so the fsync of a commit never stops the event loop, and polls are read by another
 * (SnapshotReader); every other write runs here, on the main connection, and tells the process's
 * listeners what changed.
 */
export class SqliteTasks implements TaskStore {
  private readonly statements;
  private readonly listings = new Map<string, Database.Statement>();
  private readonly snapshots = new SnapshotCache();

  constructor(
    private readonly db: Database.Database,
    private readonly inserts: InsertCommitter,
    private readonly reads: SnapshotReader,
    private readonly events: LocalEvents,
    private readonly clock: () => number,
  ) {
    // Every write clients can see is published, this store's own and retention's: each drops the kept copy.
    events.subscribe((event) => {
      if (event.type === 'changed') this.snapshots.drop(event.taskId, event.version);
    });
    this.statements = {
      get: db.prepare(`SELECT ${taskColumnList} FROM tasks WHERE id = ?`).raw(true),
      // Expired leases first, of any model: a worker already began them, and one that holds a place
      // on its engine keeps it (that place would otherwise keep it from ever being resumed). Never
      // one of the asking worker's own: it still follows that task (its renewals could not be
      // written for a while) and will finish it.
      leaseExpired: db.prepare(
        `UPDATE tasks SET version = version + 1, lease_owner = @owner, lease_expires_at = @expiresAt, attempts = attempts + 1
         WHERE id = (SELECT id FROM tasks WHERE status = ${processing} AND lease_expires_at < @now AND lease_owner <> @owner
                     ORDER BY lease_expires_at LIMIT 1)
         RETURNING ${taskColumnList}`,
      ).raw(true),
      leaseQueued: db.prepare(
        `UPDATE tasks SET version = version + 1, status = ${processing}, lease_owner = @owner, lease_expires_at = @expiresAt,
           attempts = attempts + 1
         WHERE id = (SELECT id FROM tasks WHERE status = ${queued} AND model IN (SELECT value FROM json_each(@models))
                     ORDER BY created_at, id LIMIT 1)
         RETURNING ${taskColumnList}`,
      ).raw(true),
      // The lease is not part of what clients see, so the version stays.
      renew: db.prepare(`UPDATE tasks SET lease_expires_at = @expiresAt WHERE lease_owner = @owner AND status = ${processing} RETURNING id`).pluck(),
      // The count and the claim in one statement: no other writer can come between them.
      claimEngine: db.prepare(
        `UPDATE tasks SET engine = @engine
         WHERE id = @id AND lease_owner = @owner AND status = ${processing}
           AND (@engine IS NULL OR (SELECT COUNT(*) FROM tasks AS other
                WHERE other.status = ${processing} AND other.engine = @engine AND other.id <> @id
                  AND (@scope = 'cluster' OR other.lease_owner = @owner)) < @capacity)`,
      ),
      engineLoad: db.prepare(`SELECT engine, COUNT(*) AS tasks FROM tasks WHERE status = ${processing} AND engine IS NOT NULL GROUP BY engine`),
      // Both read the partial index of queued tasks (tasks_queued): the count stops at the cap.
      queuedCount: db.prepare(`SELECT COUNT(*) FROM (SELECT 1 FROM tasks WHERE status = ${queued} LIMIT ?)`).pluck(),
      oldestQueued: db.prepare(`SELECT MIN(created_at) FROM tasks WHERE status = ${queued}`).pluck(),
      saveOperation: db.prepare(
        `UPDATE tasks SET version = version + 1, operation_json = @operation, started_at = COALESCE(started_at, @startedAt)
         WHERE id = @id AND lease_owner = @owner AND status = ${processing} RETURNING version, status`,
      ),
      saveProgress: db.prepare(
        `UPDATE tasks SET version = version + 1, progress_percent = @progress, eta_seconds = @eta
         WHERE id = @id AND lease_owner = @owner AND status = ${processing} RETURNING version, status`,
      ),
      finish: db.prepare(
        `UPDATE tasks SET version = version + 1, status = @status, results_json = @results, extra_json = @extra, error_json = @error,
           usage_json = @usage, billed_seconds = @billedSeconds, cost = @cost,
           progress_percent = @progress, eta_seconds = 0, completed_at = @now, lease_owner = NULL, lease_expires_at = NULL
         WHERE id = @id AND lease_owner = @owner AND status = ${processing} RETURNING version, status, webhook_url, key_id`,
      ),
      // An orderly hand-back gives back the attempt its lease counted: only workers that died count.
      release: db.prepare(
        `UPDATE tasks SET version = version + 1, status = ${queued}, lease_owner = NULL, lease_expires_at = NULL,
           attempts = attempts - 1
         WHERE id = @id AND lease_owner = @owner AND status = ${processing} RETURNING version, status, model`,
      ),
      statusOf: db.prepare('SELECT status, key_id FROM tasks WHERE id = ?'),
      cancel: db.prepare(
        `UPDATE tasks SET version = version + 1, status = '${TaskStatus.Failed}', error_json = @error, progress_percent = 0,
           eta_seconds = 0, completed_at = @now, lease_owner = NULL, lease_expires_at = NULL
         WHERE id = @id AND key_id = @keyId AND status IN (${queued}, ${processing}) RETURNING version, status, webhook_url, key_id`,
      ),
      insertDelivery: db.prepare(
        `INSERT INTO webhook_deliveries (id, task_id, key_id, url, event_type, next_attempt_at, created_at)
         VALUES (@id, @taskId, @keyId, @url, 'ASYNC_TASK_RESULT', @now, @now)`,
      ),
      endedResults: db.prepare(
        `SELECT results_json, results_expired_at FROM tasks WHERE id = ? AND key_id = ? AND status NOT IN (${queued}, ${processing})`,
      ),
      deleteTask: db.prepare('DELETE FROM tasks WHERE id = ?'),
      deleteDeliveries: db.prepare('DELETE FROM webhook_deliveries WHERE task_id = ?'),
    };
  }

  async insert(
    task: NewTask,
    options: { admission?: Admission; idempotency?: IdempotencyClaim; finishedAs?: TaskStatus } = {},
  ): Promise<InsertOutcome> {
    const outcome = await this.inserts.insert({
      row: {
        id: task.id,
        keyId: task.keyId,
        model: task.model,
        request: JSON.stringify(task.request),
        seed: task.seed,
        webhookUrl: task.webhookUrl,
        billableSeconds: task.billableSeconds,
        createdAt: task.createdAt,
      },
      // Every field present, set or not: one shape for every message the thread is sent.
      admission: options.admission && { ...options.admission, dayStart: startOfUtcDay(task.createdAt), monthStart: startOfUtcMonth(task.createdAt) },
      idempotency: options.idempotency,
      finishedAs: options.finishedAs,
      deliveryId: options.finishedAs && timeOrderedUuid(),
    });
    if (outcome.outcome === 'created') {
      if (options.finishedAs) this.events.publish({ type: 'delivery' });
      else this.events.publish({ type: 'queued', model: task.model });
    }
    return outcome;
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    const row = this.statements.get.get(id) as TaskRow | undefined;
    return row && decodeRow<TaskRecord>(recordFields, row);
  }

  /**
   * A kept snapshot is answered as it is while fresh (SnapshotCache): this process's writes drop
   * it at once (every change is published, and a deletion drops it here); only another process
   * writing the same file goes unheard for that long. Otherwise the read thread (SnapshotReader)
   * checks an older copy's version (an integer, far cheaper than the row) or reads the row.
   */
  getSnapshot(id: string): Promise<TaskSnapshot | undefined> {
    return this.snapshots.read(id, (id, keptVersion) => this.reads.read(id, keptVersion));
  }

  async list(keyId: string, query: TaskQuery): Promise<TaskSnapshot[]> {
    const conditions = ['key_id = @keyId'];
    if (query.status) conditions.push('status = @status');
    if (query.model) conditions.push('model = @model');
    if (query.after) conditions.push(query.order === 'newest' ? 'id < @after' : 'id > @after');
    // Ids are time-ordered: the order of ids is the order of creation.
    const sql = `SELECT ${snapshotColumnList} FROM tasks WHERE ${conditions.join(' AND ')}
      ORDER BY id ${query.order === 'newest' ? 'DESC' : 'ASC'} LIMIT @limit`;
    let statement = this.listings.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql).raw(true);
      this.listings.set(sql, statement);
    }
    const rows = statement.all({ keyId, limit: query.limit, status: query.status, model: query.model, after: query.after }) as TaskRow[];
    return rows.map((row) => decodeRow<TaskSnapshot>(snapshotFields, row));
  }

  async leaseNext(owner: string, leaseMs: number, models: readonly ModelId[]): Promise<TaskRecord | undefined> {
    const now = this.clock();
    const parameters = { owner, now, expiresAt: now + leaseMs, models: JSON.stringify(models) };
    const row = (this.statements.leaseExpired.get(parameters) ?? this.statements.leaseQueued.get(parameters)) as TaskRow | undefined;
    if (!row) return undefined;
    const task = decodeRow<TaskRecord>(recordFields, row);
    this.changed(task.id, task);
    return task;
  }

  async renewLeases(owner: string, leaseMs: number): Promise<string[]> {
    return this.statements.renew.all({ owner, expiresAt: this.clock() + leaseMs }) as string[];
  }

  async claimEngine(id: string, owner: string, engine: string | null, capacity: number, scope: 'process' | 'cluster'): Promise<boolean> {
    return this.statements.claimEngine.run({ id, owner, engine, capacity, scope }).changes === 1;
  }

  async engineLoad(): Promise<Record<string, number>> {
    const rows = this.statements.engineLoad.all() as { engine: string; tasks: number }[];
    return Object.fromEntries(rows.map((row) => [row.engine, row.tasks]));
  }

  async queueStats(countUpTo: number): Promise<QueueStats> {
    return {
      queued: this.statements.queuedCount.get(countUpTo) as number,
      oldestCreatedAt: (this.statements.oldestQueued.get() as number | null) ?? null,
    };
  }

  async saveOperation(id: string, owner: string, operation: EngineOperation, startedAt: number): Promise<boolean> {
    return this.changed(id, this.statements.saveOperation.get({ id, owner, operation: JSON.stringify(operation), startedAt }) as Change);
  }

  async saveProgress(id: string, owner: string, progressPercent: number, etaSeconds: number): Promise<boolean> {
    return this.changed(id, this.statements.saveProgress.get({ id, owner, progress: progressPercent, eta: etaSeconds }) as Change);
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

  /** The end of a task and its webhook delivery, in one transaction. */
  private finish(
    id: string,
    owner: string,
    status: TaskStatus,
    end: { results: StoredResult[]; extra: Record<string, unknown>; usage: TaskUsage | null; error: ApiErrorBody | null },
    now: number,
  ): boolean {
    const ended = this.db.transaction(() => {
      const row = this.statements.finish.get({
        id,
        owner,
        status,
        results: JSON.stringify(end.results),
        extra: JSON.stringify(end.extra),
        error: end.error && JSON.stringify(end.error),
        usage: end.usage && JSON.stringify(end.usage),
        billedSeconds: end.usage?.billedSeconds ?? null,
        cost: end.usage?.cost ?? null,
        progress: status === TaskStatus.Succeed ? 100 : 0,
        now,
      }) as (Change & { webhook_url: string | null; key_id: string }) | undefined;
      if (row?.webhook_url) this.insertDelivery(id, row.key_id, row.webhook_url, now);
      return row;
    })();
    if (ended?.webhook_url) this.events.publish({ type: 'delivery' });
    return this.changed(id, ended);
  }

  async release(id: string, owner: string): Promise<boolean> {
    const row = this.statements.release.get({ id, owner }) as (Change & { model: ModelId }) | undefined;
    if (row) this.events.publish({ type: 'queued', model: row.model });
    return this.changed(id, row);
  }

  async cancel(id: string, keyId: string, error: ApiErrorBody, now: number): Promise<{ cancelled: boolean; task: TaskSnapshot } | undefined> {
    const outcome = this.db.transaction(() => {
      const before = this.statements.statusOf.get(id) as { status: TaskStatus; key_id: string } | undefined;
      if (!before || before.key_id !== keyId) return undefined;
      const row = this.statements.cancel.get({ id, keyId, error: JSON.stringify(error), now }) as
        | (Change & { webhook_url: string | null; key_id: string })
        | undefined;
      if (row?.webhook_url) this.insertDelivery(id, row.key_id, row.webhook_url, now);
      return { before: before.status, row };
    }).immediate();
    if (!outcome) return undefined;
    if (outcome.row) {
      this.changed(id, outcome.row);
      if (outcome.before === TaskStatus.Processing) this.events.publish({ type: 'cancelled', taskId: id });
      if (outcome.row.webhook_url) this.events.publish({ type: 'delivery' });
    }
    return { cancelled: outcome.row !== undefined, task: (await this.getSnapshot(id))! };
  }

  async delete(id: string, keyId: string): Promise<{ deleted: boolean; resultKeys: string[] } | undefined> {
    return this.db.transaction(() => {
      const status = this.statements.statusOf.get(id) as { status: TaskStatus; key_id: string } | undefined;
      if (!status || status.key_id !== keyId) return undefined;
      const ended = this.statements.endedResults.get(id, keyId) as { results_json: string; results_expired_at: number | null } | undefined;
      if (!ended) return { deleted: false, resultKeys: [] };
      this.statements.deleteDeliveries.run(id);
      this.statements.deleteTask.run(id);
      this.snapshots.drop(id);
      const results = JSON.parse(ended.results_json) as StoredResult[];
      return { deleted: true, resultKeys: ended.results_expired_at === null ? results.map((result) => result.key) : [] };
    }).immediate();
  }

  private insertDelivery(taskId: string, keyId: string, url: string, now: number): void {
    this.statements.insertDelivery.run({ id: timeOrderedUuid(), taskId, keyId, url, now });
  }

  /** Tells listeners about a write that changed what clients see; answers whether it wrote. */
  private changed(id: string, change: Change | undefined): boolean {
    if (!change) return false;
    this.events.publish({ type: 'changed', taskId: id, version: change.version, status: change.status });
    return true;
  }
}
