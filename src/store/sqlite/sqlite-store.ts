import type Database from 'better-sqlite3';
import type { ApiErrorBody } from '../../spec/api-error.js';
import type { EngineOperation } from '../../spec/engine.js';
import type {
  ApiKeyRecord,
  ApiKeyStore,
  NewTask,
  StoredResult,
  TaskRecord,
  TaskSnapshot,
  TaskStore,
} from '../../spec/task-store.js';
import type { ModelId } from '../../models/model.js';
import { TaskStatus } from '../../spec/task-status.js';
import { InsertCommitter } from './insert-committer.js';
import { migrate } from './migrations.js';
import { openDatabase } from './open-database.js';
import { columnList, decodeRow, recordFields, snapshotFields } from './task-rows.js';

const taskColumnList = columnList(recordFields);
/** The version comes last: it tells whether a cached snapshot is still the row's. */
const snapshotColumnList = `${columnList(snapshotFields)}, version`;
/** Snapshots kept decoded; past this many the oldest are dropped. */
const snapshotCacheEntries = 10_000;
type TaskRow = unknown[];

interface KeyRow {
  id: string;
  name: string;
  prefix: string;
  created_at: number;
  revoked_at: number | null;
}

/**
 * The embedded store: one SQLite file (see openDatabase for its durability). New tasks are
 * committed by a thread of their own (InsertCommitter), so the fsync of a commit never stops
 * the event loop; everything else runs here, on the main connection.
 */
export class SqliteStore implements TaskStore, ApiKeyStore {
  private readonly db: Database.Database;
  private readonly statements;
  private readonly inserts: InsertCommitter;
  private readonly snapshots = new Map<string, { version: number; snapshot: TaskSnapshot }>();

  constructor(file: string) {
    this.db = openDatabase(file);
    migrate(this.db);
    this.inserts = new InsertCommitter(file);
    const db = this.db;
    const processing = `'${TaskStatus.Processing}'`;
    this.statements = {
      get: db.prepare(`SELECT ${taskColumnList} FROM tasks WHERE id = ?`).raw(true),
      getSnapshot: db.prepare(`SELECT ${snapshotColumnList} FROM tasks WHERE id = ?`).raw(true),
      getVersion: db.prepare('SELECT version FROM tasks WHERE id = ?').pluck(),
      // Expired leases first: those tasks were accepted earliest and a worker already began them.
      leaseExpired: db.prepare(
        `UPDATE tasks SET version = version + 1, lease_owner = @owner, lease_expires_at = @expiresAt, attempts = attempts + 1
         WHERE id = (SELECT id FROM tasks WHERE status = ${processing} AND lease_expires_at < @now
                       AND model IN (SELECT value FROM json_each(@models))
                     ORDER BY lease_expires_at LIMIT 1)
         RETURNING ${taskColumnList}`,
      ).raw(true),
      leaseQueued: db.prepare(
        `UPDATE tasks SET version = version + 1, status = ${processing}, lease_owner = @owner, lease_expires_at = @expiresAt,
           attempts = attempts + 1
         WHERE id = (SELECT id FROM tasks WHERE status = '${TaskStatus.Queued}' AND model IN (SELECT value FROM json_each(@models))
                     ORDER BY created_at LIMIT 1)
         RETURNING ${taskColumnList}`,
      ).raw(true),
      // The lease is not part of what clients see, so the snapshot version stays.
      renew: db.prepare(
        `UPDATE tasks SET lease_expires_at = @expiresAt WHERE lease_owner = @owner AND status = ${processing} RETURNING id`,
      ).pluck(),
      saveOperation: db.prepare(
        `UPDATE tasks SET version = version + 1, engine = @engine, operation_json = @operation, started_at = COALESCE(started_at, @startedAt)
         WHERE id = @id AND lease_owner = @owner AND status = ${processing}`,
      ),
      saveProgress: db.prepare(
        `UPDATE tasks SET version = version + 1, progress_percent = @progress, eta_seconds = @eta
         WHERE id = @id AND lease_owner = @owner AND status = ${processing}`,
      ),
      finish: db.prepare(
        `UPDATE tasks SET version = version + 1, status = @status, results_json = @results, extra_json = @extra, error_json = @error,
           progress_percent = @progress, eta_seconds = 0, completed_at = @now, lease_owner = NULL, lease_expires_at = NULL
         WHERE id = @id AND lease_owner = @owner AND status = ${processing}`,
      ),
      release: db.prepare(
        `UPDATE tasks SET version = version + 1, status = '${TaskStatus.Queued}', lease_owner = NULL, lease_expires_at = NULL
         WHERE id = @id AND lease_owner = @owner AND status = ${processing}`,
      ),
      createKey: db.prepare(
        'INSERT INTO api_keys (id, name, prefix, hash, created_at) VALUES (@id, @name, @prefix, @hash, @createdAt)',
      ),
      findKey: db.prepare('SELECT id, name, prefix, created_at, revoked_at FROM api_keys WHERE hash = ? AND revoked_at IS NULL'),
      listKeys: db.prepare('SELECT id, name, prefix, created_at, revoked_at FROM api_keys ORDER BY created_at'),
      revokeKey: db.prepare(
        `UPDATE api_keys SET revoked_at = @now WHERE (id = @idOrPrefix OR prefix = @idOrPrefix) AND revoked_at IS NULL
         RETURNING id, name, prefix, created_at, revoked_at`,
      ),
      countKeys: db.prepare('SELECT COUNT(*) AS count FROM api_keys WHERE revoked_at IS NULL'),
    };
  }

  insert(task: NewTask): Promise<void> {
    return this.inserts.insert({ ...task, request: JSON.stringify(task.request) });
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    const row = this.statements.get.get(id) as TaskRow | undefined;
    return row && decodeRow<TaskRecord>(recordFields, row);
  }

  /**
   * Clients poll the same task many times between two changes of it, so decoded snapshots are
   * kept and reused while the row's version (one integer, cheap to read) stays the same. The
   * version lives in the row, so this holds with other processes writing too.
   */
  async getSnapshot(id: string): Promise<TaskSnapshot | undefined> {
    const version = this.statements.getVersion.get(id) as number | undefined;
    if (version === undefined) return undefined;
    const cached = this.snapshots.get(id);
    if (cached?.version === version) return cached.snapshot;
    const row = this.statements.getSnapshot.get(id) as TaskRow | undefined;
    if (!row) return undefined;
    const snapshot = decodeRow<TaskSnapshot>(snapshotFields, row);
    this.snapshots.delete(id);
    if (this.snapshots.size >= snapshotCacheEntries) this.snapshots.delete(this.snapshots.keys().next().value!);
    this.snapshots.set(id, { version: row[snapshotFields.length] as number, snapshot });
    return snapshot;
  }

  async leaseNext(owner: string, now: number, leaseMs: number, models: readonly ModelId[]): Promise<TaskRecord | undefined> {
    const parameters = { owner, now, expiresAt: now + leaseMs, models: JSON.stringify(models) };
    const row = (this.statements.leaseExpired.get(parameters) ?? this.statements.leaseQueued.get(parameters)) as
      | TaskRow
      | undefined;
    return row && decodeRow<TaskRecord>(recordFields, row);
  }

  async renewLeases(owner: string, expiresAt: number): Promise<string[]> {
    return this.statements.renew.all({ owner, expiresAt }) as string[];
  }

  async saveOperation(id: string, owner: string, engine: string, operation: EngineOperation, startedAt: number): Promise<boolean> {
    const saved = JSON.stringify(operation);
    return this.statements.saveOperation.run({ id, owner, engine, operation: saved, startedAt }).changes === 1;
  }

  async saveProgress(id: string, owner: string, progressPercent: number, etaSeconds: number): Promise<boolean> {
    return this.statements.saveProgress.run({ id, owner, progress: progressPercent, eta: etaSeconds }).changes === 1;
  }

  async succeed(id: string, owner: string, results: StoredResult[], extra: Record<string, unknown>, now: number): Promise<boolean> {
    return this.finish(id, owner, TaskStatus.Succeed, results, extra, null, now);
  }

  async fail(id: string, owner: string, error: ApiErrorBody, extra: Record<string, unknown>, now: number): Promise<boolean> {
    return this.finish(id, owner, TaskStatus.Failed, [], extra, error, now);
  }

  private finish(
    id: string,
    owner: string,
    status: TaskStatus,
    results: StoredResult[],
    extra: Record<string, unknown>,
    error: ApiErrorBody | null,
    now: number,
  ): boolean {
    return (
      this.statements.finish.run({
        id,
        owner,
        status,
        results: JSON.stringify(results),
        extra: JSON.stringify(extra),
        error: error && JSON.stringify(error),
        progress: status === TaskStatus.Succeed ? 100 : 0,
        now,
      }).changes === 1
    );
  }

  async release(id: string, owner: string): Promise<boolean> {
    return this.statements.release.run({ id, owner }).changes === 1;
  }

  async createKey(record: { id: string; name: string; prefix: string; hash: string; createdAt: number }): Promise<void> {
    this.statements.createKey.run(record);
  }

  async findByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = this.statements.findKey.get(hash) as KeyRow | undefined;
    return row && toKeyRecord(row);
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    return (this.statements.listKeys.all() as KeyRow[]).map(toKeyRecord);
  }

  async revokeKey(idOrPrefix: string, now: number): Promise<ApiKeyRecord | undefined> {
    const row = this.statements.revokeKey.get({ idOrPrefix, now }) as KeyRow | undefined;
    return row && toKeyRecord(row);
  }

  async countKeys(): Promise<number> {
    return (this.statements.countKeys.get() as { count: number }).count;
  }

  async close(): Promise<void> {
    await this.inserts.close();
    this.db.close();
  }
}

function toKeyRecord(row: KeyRow): ApiKeyRecord {
  return { id: row.id, name: row.name, prefix: row.prefix, createdAt: row.created_at, revokedAt: row.revoked_at };
}
