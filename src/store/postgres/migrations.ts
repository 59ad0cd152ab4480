import type pg from 'pg';
import { TaskStatus } from '../../spec/task-status.js';
import { locks } from './locks.js';

const queued = `'${TaskStatus.Queued}'`;
const processing = `'${TaskStatus.Processing}'`;
/** Rows the queued-task total is spread over (see the queue_size step), and each key total. */
export const queueSlots = 16;

/**
 * Numbered schema steps, each applied once in its own transaction; `schema_migrations` records
 * which. Never edit a step that has shipped: add the next one. Columns are named as in the
 * embedded store, so one table decodes task rows of both (task-rows.ts); times are epoch
 * milliseconds (BIGINT), as the store contract speaks them.
 */
const migrations: readonly string[] = [
  `
  -- Room left in each page, so the frequent updates of a running task (progress, lease) can stay
  -- on their page without touching the indexes (HOT updates).
  CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    model TEXT NOT NULL,
    status TEXT NOT NULL,
    request_json JSONB NOT NULL,
    seed BIGINT NOT NULL,
    engine TEXT,
    operation_json JSONB,
    progress_percent INTEGER NOT NULL DEFAULT 0,
    eta_seconds INTEGER NOT NULL DEFAULT 0,
    error_json JSONB,
    results_json JSONB NOT NULL DEFAULT '[]',
    results_expired_at BIGINT,
    extra_json JSONB NOT NULL DEFAULT '{}',
    usage_json JSONB,
    webhook_url TEXT,
    billable_seconds DOUBLE PRECISION NOT NULL DEFAULT 0,
    billed_seconds DOUBLE PRECISION,
    cost DOUBLE PRECISION,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_expires_at BIGINT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    completed_at BIGINT,
    version INTEGER NOT NULL DEFAULT 0
  ) WITH (fillfactor = 80);
  -- The two ways a worker finds work: queued tasks by age, running tasks by lease expiry; and
  -- the leases one worker renews.
  CREATE INDEX tasks_queued ON tasks (created_at, id) WHERE status = ${queued};
  CREATE INDEX tasks_leased ON tasks (lease_expires_at) WHERE status = ${processing};
  CREATE INDEX tasks_lease_owner ON tasks (lease_owner) WHERE status = ${processing};
  -- A key's tasks newest first (ids are time-ordered), its tasks in flight, its seconds of a day.
  CREATE INDEX tasks_key_id ON tasks (key_id, id);
  CREATE INDEX tasks_key_status ON tasks (key_id, status);
  CREATE INDEX tasks_key_created ON tasks (key_id, created_at);
  -- Places taken on each engine; tasks whose end is old enough for retention; usage by key.
  CREATE INDEX tasks_engine ON tasks (engine) WHERE status = ${processing};
  CREATE INDEX tasks_completed ON tasks (completed_at) WHERE completed_at IS NOT NULL;
  CREATE INDEX tasks_key_completed ON tasks (key_id, completed_at) WHERE completed_at IS NOT NULL;
  CREATE INDEX tasks_created ON tasks (created_at);

  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    limits_json JSONB NOT NULL DEFAULT '{}',
    webhook_secret TEXT
  );

  CREATE TABLE idempotency_keys (
    key_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    task_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
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
    last_attempt_at BIGINT,
    next_attempt_at BIGINT,
    lease_owner TEXT,
    lease_expires_at BIGINT,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
  CREATE INDEX deliveries_task ON webhook_deliveries (task_id);

  CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    blob_key TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    url_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
  );
  CREATE INDEX uploads_created ON uploads (created_at);

  CREATE TABLE secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);

  -- Counted on every request of a rate-limited key: UNLOGGED writes no WAL and commits without
  -- waiting for the disk. A crash of the server empties it, which forgets at most a minute of counts.
  CREATE UNLOGGED TABLE request_counts (
    key_id TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (key_id, window_start)
  );
  `,
  // The number of queued tasks over every key, kept by a trigger as tasks come and go: the global
  // cap on queued tasks sums ${queueSlots} rows, where counting a long queue at every insert would not
  // keep up. Each change adds to a random slot, so concurrent submissions seldom wait on one row lock.
  // Trigger functions keep the schema they were made in (search_path FROM CURRENT): a write from a
  // session with another search path (an administrator's) still finds their tables.
  `
  CREATE TABLE queue_size (slot SMALLINT PRIMARY KEY, queued BIGINT NOT NULL DEFAULT 0);
  INSERT INTO queue_size (slot) SELECT generate_series(0, ${queueSlots - 1});
  UPDATE queue_size SET queued = (SELECT count(*) FROM tasks WHERE status = ${queued}) WHERE slot = 0;
  CREATE ${countQueuedTasks('floor(random() * ' + queueSlots + ')', '-- The slot is drawn once: random() in the WHERE clause would be drawn again for every row.')}
  CREATE TRIGGER tasks_count_queued AFTER INSERT OR DELETE OR UPDATE OF status ON tasks
    FOR EACH ROW EXECUTE FUNCTION count_queued_tasks();
  `,
  // Per key: tasks queued and in flight, and the seconds of tasks created in each UTC day and month,
  // kept by a trigger as tasks come, start, end and go, so admission sums a few rows of the key
  // where counting and summing its tasks at every submission cost more the more it has. Spread over
  // ${queueSlots} slots like queue_size, so a key's concurrent writes seldom wait on one row lock; one
  // transaction keeps to one slot, so two that change many tasks never lock slots in crossed order.
  // Seconds are kept in thousandths, as integers: adding and taking back fractions exactly.
  `
  CREATE TABLE key_counts (
    key_id TEXT NOT NULL,
    slot SMALLINT NOT NULL,
    queued BIGINT NOT NULL DEFAULT 0,
    in_flight BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, slot)
  );
  CREATE TABLE key_seconds (
    key_id TEXT NOT NULL,
    span TEXT NOT NULL CHECK (span IN ('day', 'month')),
    starts_at BIGINT NOT NULL,
    slot SMALLINT NOT NULL,
    millis BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, span, starts_at, slot)
  );
  CREATE FUNCTION task_spent_millis(status TEXT, billable DOUBLE PRECISION, billed DOUBLE PRECISION) RETURNS BIGINT
    LANGUAGE sql IMMUTABLE AS $$
    -- In flight what it would bill, ended what it billed (a failure, nothing).
    SELECT round(CASE WHEN status IN (${queued}, ${processing}) THEN billable ELSE COALESCE(billed, 0) END * 1000)::bigint $$;
  CREATE FUNCTION utc_period_start(span TEXT, created_at BIGINT) RETURNS BIGINT LANGUAGE sql IMMUTABLE AS $$
    SELECT (extract(epoch FROM date_trunc(span, to_timestamp(created_at / 1000.0) AT TIME ZONE 'UTC')) * 1000)::bigint $$;
  INSERT INTO key_counts (key_id, slot, queued, in_flight)
    SELECT key_id, 0, count(*) FILTER (WHERE status = ${queued}), count(*) FILTER (WHERE status IN (${queued}, ${processing}))
    FROM tasks GROUP BY key_id;
  INSERT INTO key_seconds (key_id, span, starts_at, slot, millis)
    SELECT key_id, span, utc_period_start(span, created_at) AS starts_at, 0, sum(task_spent_millis(status, billable_seconds, billed_seconds))
    FROM tasks CROSS JOIN (VALUES ('day'), ('month')) AS spans (span) GROUP BY key_id, span, starts_at;
  CREATE FUNCTION count_key_tasks() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
  DECLARE
    target SMALLINT := txid_current() % ${queueSlots};
    task_key TEXT;
    task_created BIGINT;
    queued_delta INTEGER := 0;
    in_flight_delta INTEGER := 0;
    millis_delta BIGINT := 0;
    period TEXT;
  BEGIN
    IF TG_OP <> 'INSERT' THEN
      queued_delta := queued_delta - (OLD.status = ${queued})::int;
      in_flight_delta := in_flight_delta - (OLD.status IN (${queued}, ${processing}))::int;
      -- A deleted task's seconds stay spent: deleting gives no quota back.
      IF TG_OP = 'UPDATE' THEN
        millis_delta := millis_delta - task_spent_millis(OLD.status, OLD.billable_seconds, OLD.billed_seconds);
      END IF;
      task_key := OLD.key_id;
      task_created := OLD.created_at;
    END IF;
    IF TG_OP <> 'DELETE' THEN
      queued_delta := queued_delta + (NEW.status = ${queued})::int;
      in_flight_delta := in_flight_delta + (NEW.status IN (${queued}, ${processing}))::int;
      millis_delta := millis_delta + task_spent_millis(NEW.status, NEW.billable_seconds, NEW.billed_seconds);
      task_key := NEW.key_id;
      task_created := NEW.created_at;
    END IF;
    IF queued_delta <> 0 OR in_flight_delta <> 0 THEN
      INSERT INTO key_counts AS counts (key_id, slot, queued, in_flight) VALUES (task_key, target, queued_delta, in_flight_delta)
        ON CONFLICT (key_id, slot) DO UPDATE SET queued = counts.queued + excluded.queued, in_flight = counts.in_flight + excluded.in_flight;
    END IF;
    IF millis_delta <> 0 THEN
      FOREACH period IN ARRAY ARRAY['day', 'month'] LOOP
        INSERT INTO key_seconds AS seconds (key_id, span, starts_at, slot, millis)
          VALUES (task_key, period, utc_period_start(period, task_created), target, millis_delta)
          ON CONFLICT (key_id, span, starts_at, slot) DO UPDATE SET millis = seconds.millis + excluded.millis;
      END LOOP;
    END IF;
    RETURN NULL;
  END $$;
  CREATE TRIGGER tasks_count_key AFTER INSERT OR DELETE OR UPDATE OF status, billable_seconds, billed_seconds ON tasks
    FOR EACH ROW EXECUTE FUNCTION count_key_tasks();
  `,
  // A key's seconds are kept by the triggers above, so nothing reads tasks by key and creation
  // time any more; every insert still paid for the index (about a sixth of a submission's CPU,
  // 190 against 160 µs in one measurement on SQLite).
  `DROP INDEX IF EXISTS tasks_key_created;`,
  // Two grouped inserts in flight, each of many rows, deadlocked (and waited a second for the
  // detection) when the queue slot was drawn per row: rows of one statement took slots in one
  // order, another's in another. Now one transaction keeps to one slot of every total, the one
  // the key totals use, and takes the queue's first (a row's triggers fire in the order of their
  // names): two transactions on one slot meet at their first lock, holding nothing, and two on
  // different slots never touch the same rows.
  `
  CREATE OR REPLACE ${countQueuedTasks(`txid_current() % ${queueSlots}`)}
  ALTER TRIGGER tasks_count_queued ON tasks RENAME TO tasks_count_1_queue;
  ALTER TRIGGER tasks_count_key ON tasks RENAME TO tasks_count_2_key;
  `,
  // New tasks are counted once per statement, not once per row: a grouped insert of many rows
  // (grouped-inserts.ts) made the row triggers update the same queue and key total rows once per
  // row (a new row version each time, and PL/pgSQL per row), which cost the database more CPU
  // than the rest of the insert. The statement's rows are summed from its transition table,
  // queue first and in the transaction's one slot, as the row triggers do (see the step above).
  // Changes of a task and deletions keep their row triggers.
  `
  DROP TRIGGER tasks_count_1_queue ON tasks;
  DROP TRIGGER tasks_count_2_key ON tasks;
  CREATE TRIGGER tasks_count_1_queue AFTER DELETE OR UPDATE OF status ON tasks
    FOR EACH ROW EXECUTE FUNCTION count_queued_tasks();
  CREATE TRIGGER tasks_count_2_key AFTER DELETE OR UPDATE OF status, billable_seconds, billed_seconds ON tasks
    FOR EACH ROW EXECUTE FUNCTION count_key_tasks();
  CREATE FUNCTION count_inserted_tasks() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
  DECLARE
    target SMALLINT := txid_current() % ${queueSlots};
    queued_delta BIGINT;
  BEGIN
    SELECT count(*) INTO queued_delta FROM inserted WHERE status = ${queued};
    IF queued_delta <> 0 THEN
      UPDATE queue_size SET queued = queued + queued_delta WHERE slot = target;
    END IF;
    INSERT INTO key_counts AS counts (key_id, slot, queued, in_flight)
      SELECT key_id, target, count(*) FILTER (WHERE status = ${queued}), count(*) FILTER (WHERE status IN (${queued}, ${processing}))
      FROM inserted GROUP BY key_id
      HAVING count(*) FILTER (WHERE status IN (${queued}, ${processing})) <> 0
      ON CONFLICT (key_id, slot) DO UPDATE SET queued = counts.queued + excluded.queued, in_flight = counts.in_flight + excluded.in_flight;
    INSERT INTO key_seconds AS seconds (key_id, span, starts_at, slot, millis)
      SELECT key_id, span, utc_period_start(span, created_at), target, sum(task_spent_millis(status, billable_seconds, billed_seconds))
      FROM inserted CROSS JOIN (VALUES ('day'), ('month')) AS spans (span)
      GROUP BY key_id, span, utc_period_start(span, created_at)
      HAVING sum(task_spent_millis(status, billable_seconds, billed_seconds)) <> 0
      ON CONFLICT (key_id, span, starts_at, slot) DO UPDATE SET millis = seconds.millis + excluded.millis;
    RETURN NULL;
  END $$;
  CREATE TRIGGER tasks_count_3_inserted AFTER INSERT ON tasks REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION count_inserted_tasks();
  `,
  // Retention reads ended tasks by their end (tasks_completed): nothing reads tasks by creation
  // time but the queue's own index, and every insert paid for this one.
  `DROP INDEX IF EXISTS tasks_created;`,
  // New tasks are counted by the statements that insert them (counting-insert.ts), which costs
  // the database about a quarter less per grouped submission than this trigger did. From this
  // step on, processes of an earlier version must not insert tasks: stop them before starting
  // this one.
  `
  DROP TRIGGER tasks_count_3_inserted ON tasks;
  DROP FUNCTION count_inserted_tasks();
  `,
];

/**
 * The function that keeps queue_size, adding each change to the slot `slot` names: a shipped
 * step's text and a later step's replacement differ only there.
 */
function countQueuedTasks(slot: string, note?: string): string {
  return `FUNCTION count_queued_tasks() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
  ${note === undefined ? '' : `${note}\n  `}DECLARE delta INTEGER := 0; target SMALLINT := ${slot};
  BEGIN
    IF TG_OP <> 'INSERT' AND OLD.status = ${queued} THEN delta := delta - 1; END IF;
    IF TG_OP <> 'DELETE' AND NEW.status = ${queued} THEN delta := delta + 1; END IF;
    IF delta <> 0 THEN
      UPDATE queue_size SET queued = queued + delta WHERE slot = target;
    END IF;
    RETURN NULL;
  END $$;`;
}

/**
 * Brings the schema up to date. Every process runs this at start; a session-level advisory lock
 * lets one of them apply the missing steps while the others wait, then find nothing to do.
 */
export async function migrate(client: pg.ClientBase): Promise<void> {
  await client.query('SELECT pg_advisory_lock($1, hashtext(current_schema()))', [locks.migrations]);
  try {
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
    const { rows } = await client.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations');
    for (let version = (rows[0].version ?? 0) + 1; version <= migrations.length; version++) {
      await client.query('BEGIN');
      try {
        await client.query(migrations[version - 1]);
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1, hashtext(current_schema()))', [locks.migrations]);
  }
}
