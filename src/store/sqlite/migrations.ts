import type Database from 'better-sqlite3';

/**
 * Numbered schema steps, applied in order inside one transaction each; PRAGMA user_version
 * records how far a database has come. Never edit a step that has shipped: add the next one.
 */
const migrations: readonly string[] = [
  `
  CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    model TEXT NOT NULL,
    status TEXT NOT NULL,
    request_json TEXT NOT NULL,
    seed INTEGER NOT NULL,
    engine TEXT,
    operation_json TEXT,
    progress_percent INTEGER NOT NULL DEFAULT 0,
    eta_seconds INTEGER NOT NULL DEFAULT 0,
    error_json TEXT,
    results_json TEXT NOT NULL DEFAULT '[]',
    extra_json TEXT NOT NULL DEFAULT '{}',
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_expires_at INTEGER,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    completed_at INTEGER
  );
  -- The two ways a worker finds work: queued tasks by age, running tasks by lease expiry.
  CREATE INDEX tasks_queued ON tasks (created_at) WHERE status = 'TASK_STATUS_QUEUED';
  CREATE INDEX tasks_leased ON tasks (lease_expires_at) WHERE status = 'TASK_STATUS_PROCESSING';

  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  );
  `,
  // Bumped by every update, so a reader can tell whether a row it decoded before has changed.
  `ALTER TABLE tasks ADD COLUMN version INTEGER NOT NULL DEFAULT 0;`,
];

export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let version = current; version < migrations.length; version++) {
    db.transaction(() => {
      db.exec(migrations[version]);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
