import type Database from 'better-sqlite3';
import { TaskStatus } from '../../spec/task-status.js';
import { dayStart, isInFlight, isQueued, monthStart, spentMillis } from './task-totals.js';

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
  // The task lifecycle (webhooks, cancel, idempotency, lists, retention), usage and per-key limits,
  // engine places counted across processes, upload records and shared secrets.
  `
  ALTER TABLE tasks ADD COLUMN webhook_url TEXT;
  ALTER TABLE tasks ADD COLUMN billable_seconds REAL NOT NULL DEFAULT 0;
  ALTER TABLE tasks ADD COLUMN usage_json TEXT;
  ALTER TABLE tasks ADD COLUMN billed_seconds REAL;
  ALTER TABLE tasks ADD COLUMN cost REAL;
  ALTER TABLE tasks ADD COLUMN results_expired_at INTEGER;
  -- A key's tasks newest first (ids are time-ordered), its tasks in flight, its seconds of a day.
  CREATE INDEX tasks_key_id ON tasks (key_id, id);
  CREATE INDEX tasks_key_status ON tasks (key_id, status);
  CREATE INDEX tasks_key_created ON tasks (key_id, created_at);
  -- Places taken on each engine; tasks whose end is old enough for retention; usage by key.
  CREATE INDEX tasks_engine ON tasks (engine) WHERE status = 'TASK_STATUS_PROCESSING';
  CREATE INDEX tasks_completed ON tasks (completed_at) WHERE completed_at IS NOT NULL;
  CREATE INDEX tasks_key_completed ON tasks (key_id, completed_at) WHERE completed_at IS NOT NULL;
  CREATE INDEX tasks_created ON tasks (created_at);

  ALTER TABLE api_keys ADD COLUMN limits_json TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE api_keys ADD COLUMN webhook_secret TEXT;

  CREATE TABLE idempotency_keys (
    key_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    task_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (key_id, idempotency_key)
  );
  CREATE INDEX idempotency_expiry ON idempotency_keys (expires_at);

  CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    task_id TEXT NOT NULL,
    key_id TEXT NOT NULL,
    url TEXT NOT NULL,
    event_type TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_status_code INTEGER,
    last_error TEXT,
    last_attempt_at INTEGER,
    next_attempt_at INTEGER,
    lease_owner TEXT,
    lease_expires_at INTEGER,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
  CREATE INDEX deliveries_task ON webhook_deliveries (task_id);

  CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    blob_key TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    url_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX uploads_created ON uploads (created_at);

  CREATE TABLE secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);

  CREATE TABLE request_counts (
    key_id TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (key_id, window_start)
  );
  `,
  // The number of queued tasks over every key, kept by triggers as tasks come and go: the global
  // cap on queued tasks reads one row, where counting a long queue at every insert would not keep up.
  // Request counts move to a file of their own (request-counts.ts).
  `
  DROP TABLE request_counts;
  CREATE TABLE queue_size (id INTEGER PRIMARY KEY CHECK (id = 1), queued INTEGER NOT NULL);
  INSERT INTO queue_size VALUES (1, (SELECT COUNT(*) FROM tasks WHERE status = '${TaskStatus.Queued}'));
  CREATE TRIGGER tasks_queued_insert AFTER INSERT ON tasks WHEN NEW.status = '${TaskStatus.Queued}'
    BEGIN UPDATE queue_size SET queued = queued + 1; END;
  CREATE TRIGGER tasks_queued_delete AFTER DELETE ON tasks WHEN OLD.status = '${TaskStatus.Queued}'
    BEGIN UPDATE queue_size SET queued = queued - 1; END;
  CREATE TRIGGER tasks_queued_update AFTER UPDATE OF status ON tasks
    WHEN (OLD.status = '${TaskStatus.Queued}') <> (NEW.status = '${TaskStatus.Queued}')
    BEGIN UPDATE queue_size SET queued = queued + (NEW.status = '${TaskStatus.Queued}') - (OLD.status = '${TaskStatus.Queued}'); END;
  `,
  // Per key: tasks queued and in flight, and the seconds of tasks created in each UTC day and month,
  // kept by triggers as tasks come, start, end and go, so admission reads a few rows by primary key
  // where counting and summing the key's tasks at every submission cost more the more it has.
  // Seconds are kept in thousandths, as integers: adding and taking back fractions exactly.
  `
  CREATE TABLE key_counts (
    key_id TEXT PRIMARY KEY,
    queued INTEGER NOT NULL DEFAULT 0,
    in_flight INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;
  CREATE TABLE key_seconds (
    key_id TEXT NOT NULL,
    span TEXT NOT NULL CHECK (span IN ('day', 'month')),
    starts_at INTEGER NOT NULL,
    millis INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, span, starts_at)
  ) WITHOUT ROWID;
  INSERT INTO key_counts (key_id, queued, in_flight)
    SELECT key_id, SUM(${isQueued('tasks')}), SUM(${isInFlight('tasks')}) FROM tasks GROUP BY key_id;
  INSERT INTO key_seconds (key_id, span, starts_at, millis)
    SELECT key_id, 'day', ${dayStart('tasks')}, SUM(${spentMillis('tasks')}) FROM tasks GROUP BY 1, 3;
  INSERT INTO key_seconds (key_id, span, starts_at, millis)
    SELECT key_id, 'month', ${monthStart('tasks')}, SUM(${spentMillis('tasks')}) FROM tasks GROUP BY 1, 3;
  CREATE TRIGGER tasks_key_counts_insert AFTER INSERT ON tasks BEGIN
    ${addTo('NEW', '+')}
  END;
  CREATE TRIGGER tasks_key_counts_delete AFTER DELETE ON tasks BEGIN
    ${addTo('OLD', '-', false)}
  END;
  CREATE TRIGGER tasks_key_counts_update AFTER UPDATE OF status, billable_seconds, billed_seconds ON tasks
    WHEN OLD.status <> NEW.status OR ${spentMillis('OLD')} <> ${spentMillis('NEW')} BEGIN
    ${addTo('OLD', '-')}
    ${addTo('NEW', '+')}
  END;
  `,
  // A key's seconds are kept by the triggers above, so nothing reads tasks by key and creation
  // time any more; every insert still paid for the index (about a sixth of a submission's CPU,
  // 190 against 160 µs in one measurement on SQLite).
  `DROP INDEX IF EXISTS tasks_key_created;`,
  // New tasks are added to the totals by the commit thread, once per batch (task-totals.ts): the
  // row triggers on INSERT cost most of an insert. Retention reads ended tasks by their end
  // (tasks_completed), so nothing reads tasks by creation time but the queue's own index.
  `
  DROP TRIGGER IF EXISTS tasks_queued_insert;
  DROP TRIGGER IF EXISTS tasks_key_counts_insert;
  DROP INDEX IF EXISTS tasks_created;
  `,
];

/**
 * Adds a task's row to its key's totals (sign '+'), or takes it back out ('-'); `seconds` false
 * leaves the seconds alone (a deleted task's seconds stay spent: deleting gives no quota back).
 */
function addTo(row: string, sign: '+' | '-', seconds = true): string {
  const upsert = (table: string, columns: string, values: string, set: string) =>
    `INSERT INTO ${table} (${columns}) VALUES (${values}) ON CONFLICT DO UPDATE SET ${set};`;
  return [
    upsert('key_counts', 'key_id, queued, in_flight', `${row}.key_id, ${sign}${isQueued(row)}, ${sign}${isInFlight(row)}`,
      'queued = queued + excluded.queued, in_flight = in_flight + excluded.in_flight'),
    ...(seconds ? (['day', 'month'] as const) : []).map((span) =>
      upsert('key_seconds', 'key_id, span, starts_at, millis',
        `${row}.key_id, '${span}', ${span === 'day' ? dayStart(row) : monthStart(row)}, ${sign}${spentMillis(row)}`,
        'millis = millis + excluded.millis'),
    ),
  ].join('\n    ');
}

export function migrate(db: Database.Database): void {
  // IMMEDIATE, and the version read inside: two processes starting at once apply each step once.
  for (;;) {
    const applied = db
      .transaction(() => {
        const version = db.pragma('user_version', { simple: true }) as number;
        if (version >= migrations.length) return false;
        db.exec(migrations[version]);
        db.pragma(`user_version = ${version + 1}`);
        return true;
      })
      .immediate();
    if (!applied) return;
  }
}
