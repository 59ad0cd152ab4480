import Database from 'better-sqlite3';
import type { ApiErrorBody } from '../../spec/api-error.js';
import type { EngineOperation } from '../../spec/engine.js';
import type {
  ApiKeyRecord,
  ApiKeyStore,
  NewTask,
  StoredResult,
  TaskRecord,
  TaskStore,
} from '../../spec/task-store.js';
import { TaskStatus } from '../../spec/task-status.js';
import type { ModelId } from '../../models/model.js';
import { migrate } from './migrations.js';

interface TaskRow {
  id: string;
  key_id: string;
  model: string;
  status: string;
  request_json: string;
  seed: number;
  engine: string | null;
  operation_json: string | null;
  progress_percent: number;
  eta_seconds: number;
  error_json: string | null;
  results_json: string;
  extra_json: string;
  attempts: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  created_at: number;
  started_at: number | null;
  completed_at: number | null;
}

interface KeyRow {
  id: string;
  name: string;
  prefix: string;
  created_at: number;
  revoked_at: number | null;
}

interface PendingInsert {
  task: NewTask;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * The embedded store: one SQLite file in WAL mode with `synchronous = FULL`, so an accepted task
 * survives a power cut, not only a crash. An fsync per submission would cap throughput, so
 * inserts are group-committed: all submissions that arrive in one turn of the event loop share
 * one transaction and one fsync, and each is answered only after it.
 */
export class SqliteStore implements TaskStore, ApiKeyStore {
  private readonly db: Database.Database;
  private readonly statements;
  private pendingInserts: PendingInsert[] = [];

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    // Another process (the `wan keys` command, a second server) may hold the write lock briefly.
    this.db.pragma('busy_timeout = 5000');
    migrate(this.db);
    const db = this.db;
    const processing = `'${TaskStatus.Processing}'`;
    this.statements = {
      insert: db.prepare(
        `INSERT INTO tasks (id, key_id, model, status, request_json, seed, created_at)
         VALUES (@id, @keyId, @model, '${TaskStatus.Queued}', @request, @seed, @createdAt)`,
      ),
      get: db.prepare('SELECT * FROM tasks WHERE id = ?'),
      // Expired leases first: those tasks were accepted earliest and a worker already began them.
      leaseExpired: db.prepare(
        `UPDATE tasks SET lease_owner = @owner, lease_expires_at = @expiresAt, attempts = attempts + 1
         WHERE id = (SELECT id FROM tasks WHERE status = ${processing} AND lease_expires_at < @now
                     ORDER BY lease_expires_at LIMIT 1)
         RETURNING *`,
      ),
      leaseQueued: db.prepare(
        `UPDATE tasks SET status = ${processing}, lease_owner = @owner, lease_expires_at = @expiresAt,
           attempts = attempts + 1
         WHERE id = (SELECT id FROM tasks WHERE status = '${TaskStatus.Queued}' ORDER BY created_at LIMIT 1)
         RETURNING *`,
      ),
      renew: db.prepare(
        `UPDATE tasks SET lease_expires_at = @expiresAt WHERE id = @id AND lease_owner = @owner AND status = ${processing}`,
      ),
      saveOperation: db.prepare(
        `UPDATE tasks SET engine = @engine, operation_json = @operation, started_at = COALESCE(started_at, @startedAt)
         WHERE id = @id AND lease_owner = @owner AND status = ${processing}`,
      ),
      saveProgress: db.prepare(
        `UPDATE tasks SET progress_percent = @progress, eta_seconds = @eta
         WHERE id = @id AND lease_owner = @owner AND status = ${processing}`,
      ),
      finish: db.prepare(
        `UPDATE tasks SET status = @status, results_json = @results, extra_json = @extra, error_json = @error,
           progress_percent = @progress, eta_seconds = 0, completed_at = @now, lease_owner = NULL, lease_expires_at = NULL
         WHERE id = @id AND lease_owner = @owner AND status = ${processing}`,
      ),
      release: db.prepare(
        `UPDATE tasks SET status = '${TaskStatus.Queued}', lease_owner = NULL, lease_expires_at = NULL
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
    return new Promise((resolve, reject) => {
      if (this.pendingInserts.length === 0) setImmediate(() => this.flushInserts());
      this.pendingInserts.push({ task, resolve, reject });
    });
  }

  private flushInserts(): void {
    const batch = this.pendingInserts;
    this.pendingInserts = [];
    try {
      this.db.transaction(() => {
        for (const { task } of batch) {
          this.statements.insert.run({ ...task, request: JSON.stringify(task.request) });
        }
      })();
    } catch (error) {
      for (const pending of batch) pending.reject(error as Error);
      return;
    }
    for (const pending of batch) pending.resolve();
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    const row = this.statements.get.get(id) as TaskRow | undefined;
    return row && toTaskRecord(row);
  }

  async leaseNext(owner: string, now: number, leaseMs: number): Promise<TaskRecord | undefined> {
    const parameters = { owner, now, expiresAt: now + leaseMs };
    const row = (this.statements.leaseExpired.get(parameters) ?? this.statements.leaseQueued.get(parameters)) as
      | TaskRow
      | undefined;
    return row && toTaskRecord(row);
  }

  async renewLease(id: string, owner: string, expiresAt: number): Promise<boolean> {
    return this.statements.renew.run({ id, owner, expiresAt }).changes === 1;
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
    if (this.pendingInserts.length > 0) this.flushInserts();
    this.db.close();
  }
}

function toTaskRecord(row: TaskRow): TaskRecord {
  return {
    id: row.id,
    keyId: row.key_id,
    model: row.model as ModelId,
    status: row.status as TaskStatus,
    request: JSON.parse(row.request_json),
    seed: row.seed,
    engine: row.engine,
    operation: row.operation_json === null ? null : JSON.parse(row.operation_json),
    progressPercent: row.progress_percent,
    etaSeconds: row.eta_seconds,
    error: row.error_json === null ? null : JSON.parse(row.error_json),
    results: JSON.parse(row.results_json),
    extra: JSON.parse(row.extra_json),
    attempts: row.attempts,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_at,
    createdAt: row.created_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
  };
}

function toKeyRecord(row: KeyRow): ApiKeyRecord {
  return { id: row.id, name: row.name, prefix: row.prefix, createdAt: row.created_at, revokedAt: row.revoked_at };
}
