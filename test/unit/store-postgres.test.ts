import assert from 'node:assert/strict';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskEvent } from '../../src/spec/task-events.js';
import { TaskStatus } from '../../src/spec/task-status.js';
import { isDiskError, isTransientStoreError } from '../../src/spec/storage-errors.js';
import { snapshotRecheckMs } from '../../src/store/snapshot-cache.js';
import { connectTimeoutMs, Database } from '../../src/store/postgres/database.js';
import { PgEvents } from '../../src/store/postgres/pg-events.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { announceEveryMs } from '../../src/store/postgres/queued-announcements.js';
import { LocalEvents } from '../../src/store/local-events.js';
import { adminQuery, freshSchema, postgresUnavailable } from '../support/postgres.js';
import { fillKey, keyTotals } from '../support/key-totals.js';
import { storeConformance } from '../support/store-conformance.js';

const skip = await postgresUnavailable();

storeConformance(
  'PostgreSQL',
  async () => {
    const { url } = await freshSchema();
    const open = () => PostgresStore.open({ url, poolSize: 4 });
    return { store: await open(), another: open };
  },
  skip,
);

let sequence = 0;
function newTask(keyId = 'key-1') {
  sequence++;
  return { id: `0190-pg-${String(sequence).padStart(6, '0')}`, keyId, model: 'wan2.7-t2v' as const, request: { prompt: 'p' }, seed: 1, webhookUrl: null, createdAt: Date.now(), billableSeconds: 5 };
}

/** Two processes on one schema, each with its own application name so a test can cut their connections. */
async function twoProcesses() {
  const { schema, url } = await freshSchema();
  const named = (name: string) => {
    const withName = new URL(url);
    withName.searchParams.set('application_name', `${schema}-${name}`);
    return withName.toString();
  };
  const first = await PostgresStore.open({ url: named('a'), poolSize: 4 });
  const second = await PostgresStore.open({ url: named('b'), poolSize: 4 });
  return { schema, first, second, close: async () => Promise.all([first.close(), second.close()]) };
}

/** Resolves with the first event `matches` accepts, or undefined after `timeoutMs`. */
function nextEvent(store: PostgresStore, matches: (event: TaskEvent) => boolean, timeoutMs: number): Promise<TaskEvent | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stop();
      resolve(undefined);
    }, timeoutMs);
    const stop = store.events.subscribe((event) => {
      if (!matches(event)) return;
      clearTimeout(timer);
      stop();
      resolve(event);
    });
  });
}

/**
 * A TCP proxy in front of the test server whose open connections can be silenced: they stay
 * open and forward nothing more, as over a network cut; connections made later forward again.
 */
async function silenceableProxy(target: URL) {
  const all = new Set<Socket>();
  const open = new Set<{ client: Socket; server: Socket }>();
  const proxy = createServer((client) => {
    const server = connect(Number(target.port || 5432), target.hostname);
    const pair = { client, server };
    open.add(pair);
    all.add(client).add(server);
    client.pipe(server).pipe(client);
    const forget = () => {
      open.delete(pair);
      client.destroy();
      server.destroy();
    };
    client.on('error', forget).on('close', forget);
    server.on('error', forget).on('close', forget);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as AddressInfo;
  return {
    /** `url` through the proxy. */
    url(url: string) {
      const through = new URL(url);
      through.hostname = '127.0.0.1';
      through.port = String(port);
      return through.toString();
    },
    silenceOpenConnections() {
      for (const { client, server } of open) {
        client.unpipe(server);
        server.unpipe(client);
        client.pause();
        server.pause();
      }
      open.clear();
    },
    close() {
      for (const socket of all) socket.destroy();
      proxy.close();
    },
  };
}

describe('PostgreSQL: what several processes share', { skip }, () => {
  test('a write of one process is heard by another once it commits; each process hears its own writes once', async () => {
    const { first, second, close } = await twoProcesses();
    try {
      const ownEvents: TaskEvent[] = [];
      first.events.subscribe((event) => ownEvents.push(event));
      const task = newTask();
      const heard = nextEvent(second, (event) => event.type === 'queued', 2000);
      const submittedAt = performance.now();
      await first.tasks.insert(task);
      const event = await heard;
      assert.deepEqual(event, { type: 'queued', model: 'wan2.7-t2v' });
      console.log(`queued event heard by the other process ${(performance.now() - submittedAt).toFixed(1)} ms after the insert began`);

      const changed = nextEvent(second, (event) => event.type === 'changed' && event.status === 'TASK_STATUS_PROCESSING', 2000);
      const leased = await first.tasks.leaseNext('w', 60_000, ['wan2.7-t2v']);
      assert.deepEqual(await changed, { type: 'changed', taskId: task.id, version: leased!.version, status: 'TASK_STATUS_PROCESSING' });
      const cancelled = nextEvent(second, (event) => event.type === 'cancelled', 2000);
      const error = { code: 500, reason: 'TASK_CANCELLED', message: 'cancelled', metadata: {} };
      await first.tasks.cancel(task.id, 'key-1', error, Date.now());
      assert.deepEqual(await cancelled, { type: 'cancelled', taskId: task.id }, 'a worker on another process is told to stop');

      await sleep(300);
      assert.equal(ownEvents.filter((event) => event.type === 'queued').length, 1, 'not once more through LISTEN');
      assert.equal(ownEvents.filter((event) => event.type === 'cancelled').length, 1);
    } finally {
      await close();
    }
  });

  test('submissions under load are announced at most once a window, and the last of them still reaches the other process at once', async () => {
    const { first, second, close } = await twoProcesses();
    try {
      const heardAt: number[] = [];
      second.events.subscribe((event) => event.type === 'queued' && heardAt.push(performance.now()));
      // Each round waits for its commit: at least one group, one statement, per round.
      const rounds = 40;
      let lastRoundAt = 0;
      for (let round = 0; round < rounds; round++) {
        lastRoundAt = performance.now();
        await Promise.all(Array.from({ length: 4 }, () => first.tasks.insert(newTask())));
      }
      const committedAt = performance.now();
      await sleep(announceEveryMs + 200);
      const last = heardAt.at(-1);
      console.log(`${heardAt.length} announcements for ${rounds} groups or more over ${(committedAt - heardAt[0]).toFixed(0)} ms; the last heard ${((last ?? NaN) - committedAt).toFixed(1)} ms after the last commit`);
      assert.ok(heardAt.length > 0 && heardAt.length < rounds, `${heardAt.length} announcements for ${rounds} groups or more`);
      assert.ok(last !== undefined && last > lastRoundAt, 'the last group is announced, after it began');
      assert.ok(last - committedAt < 50, `heard ${(last - committedAt).toFixed(1)} ms after the last commit`);
    } finally {
      await close();
    }
  });

  test('a refused submission announces nothing: events leave only with a committed write', async () => {
    const { first, second, close } = await twoProcesses();
    try {
      const heard: TaskEvent[] = [];
      second.events.subscribe((event) => heard.push(event));
      assert.equal((await first.tasks.insert(newTask('busy'), { admission: { maxInFlight: 1 } })).outcome, 'created');
      assert.equal((await first.tasks.insert(newTask('busy'), { admission: { maxInFlight: 1 } })).outcome, 'refused');
      await sleep(300);
      assert.equal(heard.filter((event) => event.type === 'queued').length, 1);
    } finally {
      await close();
    }
  });

  test('the listening connection, cut by the server, listens again by itself', async () => {
    const { schema, first, second, close } = await twoProcesses();
    try {
      const { rowCount } = await adminQuery(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'`,
        [`${schema}-b`],
      );
      assert.equal(rowCount, 1, 'the listener was found and cut');
      let heard: TaskEvent | undefined;
      for (let tries = 0; !heard && tries < 50; tries++) {
        const next = nextEvent(second, (event) => event.type === 'queued', 200);
        await first.tasks.insert(newTask());
        heard = await next;
      }
      assert.ok(heard, 'events are heard again');
    } finally {
      await close();
    }
  });

  test('connections the server closed are replaced: the store answers again without a restart', async () => {
    const { schema, first, close } = await twoProcesses();
    try {
      await first.tasks.insert(newTask());
      const { rowCount } = await adminQuery(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND query NOT LIKE 'LISTEN%'`,
        [`${schema}-a`],
      );
      assert.ok(rowCount! >= 1);
      let answered = false;
      for (let tries = 0; !answered && tries < 20; tries++) {
        try {
          await first.ping();
          answered = true;
        } catch (error) {
          assert.ok(isTransientStoreError(error), `a lost connection is a transient error: ${(error as Error).message}`);
          await sleep(100);
        }
      }
      assert.ok(answered);
      assert.equal((await first.tasks.insert(newTask())).outcome, 'created');
    } finally {
      await close();
    }
  });

  test('a connection whose server went silent is given up after the statement timeout; polls and submissions go on on a new one', { timeout: 20_000 }, async (t) => {
    const { url } = await freshSchema();
    const proxy = await silenceableProxy(new URL(url));
    t.after(() => proxy.close());
    const queryTimeoutMs = 1000;
    const store = await PostgresStore.open({ url: proxy.url(url), poolSize: 1, listen: false, queryTimeoutMs });
    t.after(() => store.close());
    const [polled, task] = [newTask(), newTask()];
    await store.tasks.insert(polled);
    await store.tasks.insert(task);
    // Every connection open: the pool's, the submissions' and the polls' own (StatementLane).
    assert.equal((await store.tasks.getSnapshot(polled.id))?.id, polled.id);
    // What a network cut looks like: the connections stay open and nothing comes back.
    proxy.silenceOpenConnections();
    const givenUp = async (work: Promise<unknown>) => {
      const startedAt = Date.now();
      await assert.rejects(work, (error: Error) => {
        assert.ok(isTransientStoreError(error), `a transient error, to be retried: ${error.message}`);
        return true;
      });
      const waited = Date.now() - startedAt;
      assert.ok(waited >= queryTimeoutMs - 100 && waited < queryTimeoutMs + 2000, `gave up after ${waited} ms, not ${queryTimeoutMs}`);
    };
    await givenUp(store.tasks.getSnapshot(task.id));
    await givenUp(store.tasks.insert(newTask()));
    await givenUp(store.ping());
    // Each silent connection was given up: these go on new ones.
    assert.equal((await store.tasks.getSnapshot(task.id))?.id, task.id);
    assert.equal((await store.tasks.insert(newTask())).outcome, 'created');
    await store.ping();
  });

  test('processes starting together on an empty schema apply each migration once', async () => {
    const { url, schema } = await freshSchema();
    const stores = await Promise.all(Array.from({ length: 4 }, () => PostgresStore.open({ url, poolSize: 2 })));
    try {
      const { rows } = await adminQuery(`SELECT version, count(*)::int AS times FROM ${schema}.schema_migrations GROUP BY version`);
      assert.ok(rows.length >= 1);
      assert.ok(rows.every((row) => row.times === 1), JSON.stringify(rows));
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  test('a database made before the key totals existed gets them from its rows when it migrates', async () => {
    const { url, schema } = await freshSchema();
    const now = Date.now();
    const before = await PostgresStore.open({ url, poolSize: 2 });
    const expected = await fillKey(before, 'old', now);
    await before.close();
    // Back to the schema before the key totals' migration (step 3), its rows kept: the row
    // trigger of the queue total as it was then, counting inserts too.
    await adminQuery(`DROP TRIGGER tasks_count_2_key ON ${schema}.tasks; DROP FUNCTION ${schema}.count_key_tasks();
      DROP TRIGGER tasks_count_1_queue ON ${schema}.tasks;
      CREATE TRIGGER tasks_count_queued AFTER INSERT OR DELETE OR UPDATE OF status ON ${schema}.tasks
        FOR EACH ROW EXECUTE FUNCTION ${schema}.count_queued_tasks();
      DROP FUNCTION ${schema}.task_spent_millis(text, double precision, double precision); DROP FUNCTION ${schema}.utc_period_start(text, bigint);
      DROP TABLE ${schema}.key_counts, ${schema}.key_seconds; DELETE FROM ${schema}.schema_migrations WHERE version >= 3`);
    const after = await PostgresStore.open({ url, poolSize: 2 });
    try {
      assert.deepEqual(await keyTotals(after, 'old', now), expected);
    } finally {
      await after.close();
    }
  });

  test('a database that cannot be reached fails the start with an error the worker would retry', async () => {
    await assert.rejects(PostgresStore.open({ url: 'postgres://postgres@127.0.0.1:1/test', poolSize: 1 }), (error: Error) => {
      assert.ok(isTransientStoreError(error), `${(error as NodeJS.ErrnoException).code}: ${error.message}`);
      return true;
    });
  });

  test('a snapshot one process keeps: a change another announces is seen at once, one it does not within snapshotRecheckMs', async () => {
    const { schema, first, second, close } = await twoProcesses();
    try {
      const task = newTask();
      await first.tasks.insert(task);
      // Read twice: a task's copy is kept from its second reading on.
      await second.tasks.getSnapshot(task.id);
      assert.equal((await second.tasks.getSnapshot(task.id))?.status, 'TASK_STATUS_QUEUED');
      const heard = nextEvent(second, (event) => event.type === 'changed', 2000);
      await first.tasks.leaseNext('w', 60_000, ['wan2.7-t2v']);
      await heard;
      assert.equal((await second.tasks.getSnapshot(task.id))?.status, 'TASK_STATUS_PROCESSING', 'the announcement dropped the kept copy');

      // A write that announces nothing (an administrator's UPDATE): seen once the kept copy is due for a check.
      await adminQuery(`UPDATE ${schema}.tasks SET progress_percent = 42, version = version + 1 WHERE id = $1`, [task.id]);
      const changedAt = performance.now();
      while ((await second.tasks.getSnapshot(task.id))?.progressPercent !== 42) {
        assert.ok(performance.now() - changedAt < snapshotRecheckMs + 500, `not seen within ${snapshotRecheckMs} ms`);
        await sleep(20);
      }
      await adminQuery(`DELETE FROM ${schema}.tasks WHERE id = $1`, [task.id]);
      await sleep(snapshotRecheckMs);
      assert.equal(await second.tasks.getSnapshot(task.id), undefined, 'a deleted task is gone once checked again');
    } finally {
      await close();
    }
  });

  test('polls that arrive together are read by one statement, each answered with its own task', async () => {
    const { first, second, close } = await twoProcesses();
    try {
      const tasks = Array.from({ length: 60 }, () => newTask());
      await Promise.all(tasks.map((task) => first.tasks.insert(task)));
      // A kept copy, one version behind once the task is leased: its columns must come with the batch.
      await second.tasks.getSnapshot(tasks[0].id);
      await second.tasks.getSnapshot(tasks[0].id);
      await first.tasks.leaseNext('w', 60_000, ['wan2.7-t2v']);
      await sleep(snapshotRecheckMs);
      const wanted = [...tasks.map((task) => task.id), tasks[1].id, tasks[1].id, 'no-such-task', 'another-missing'];
      const answers = await Promise.all(wanted.map((id) => second.tasks.getSnapshot(id)));
      assert.deepEqual(
        answers.map((answer) => answer?.id),
        wanted.map((id) => (id.includes('missing') || id === 'no-such-task' ? undefined : id)),
      );
      assert.equal(answers[0]?.status, 'TASK_STATUS_PROCESSING', 'the leased task read anew, not the kept copy');
      assert.ok(answers.slice(1, 60).every((answer) => answer?.status === 'TASK_STATUS_QUEUED'));
    } finally {
      await close();
    }
  });

  test('grouped inserts of many keys on two processes at once never deadlock on the totals', async () => {
    const { first, second, close } = await twoProcesses();
    try {
      // 32 clients on each process submitting one task after another, as a loaded API sees them:
      // statements of many rows in flight side by side, each row adding to its key's totals and the queue's.
      const client = async (store: PostgresStore, index: number) => {
        for (let round = 0; round < 40; round++) assert.equal((await store.tasks.insert(newTask(`key-${(index + round) % 12}`))).outcome, 'created');
      };
      const startedAt = performance.now();
      await Promise.all(Array.from({ length: 64 }, (_, index) => client(index % 2 === 0 ? first : second, index)));
      // A deadlock fails one side's statement, and is found only after deadlock_timeout (1 s).
      assert.ok(performance.now() - startedAt < 10_000, `${Math.round(performance.now() - startedAt)} ms`);
      const queued = await Promise.all(Array.from({ length: 12 }, async (_, key) => (await keyTotals(first, `key-${key}`, Date.now())).queued));
      assert.equal(queued.reduce((sum, count) => sum + count, 0), 64 * 40);
    } finally {
      await close();
    }
  });

  test('every way in counts new tasks: totals match a recount of the rows while workers change tasks at once', async () => {
    const { schema, first, second, close } = await twoProcesses();
    try {
      // Grouped inserts, inserts under a key's limits, idempotent and test-mode inserts on two
      // processes, while a worker on each leases and ends tasks (the row triggers, which lock the
      // queue's slot before the key's: an insert taking them the other way round would deadlock).
      const submit = async (store: PostgresStore, index: number) => {
        for (let round = 0; round < 30; round++) {
          const task = newTask(`key-${(index + round) % 5}`);
          const way = (index + round) % 4;
          const options =
            way === 1
              ? { admission: { maxInFlight: 10_000 } }
              : way === 2
                ? { idempotency: { key: task.id, bodyHash: 'h', expiresAt: task.createdAt + 60_000 } }
                : way === 3
                  ? { finishedAs: TaskStatus.Succeed }
                  : {};
          assert.equal((await store.tasks.insert(task, options)).outcome, 'created');
        }
      };
      const work = async (store: PostgresStore, worker: string) => {
        for (let round = 0; round < 120; round++) {
          const task = await store.tasks.leaseNext(worker, 60_000, ['wan2.7-t2v']);
          if (!task) continue;
          const usage = { model: 'wan2.7-t2v' as const, engine: 'preview', billedSeconds: 2, outputSeconds: 2, inputSeconds: 0, resolution: '720P' as const, audio: true, listPrice: 0.2, cost: 0.2, currency: 'USD' };
          if (round % 3 !== 0) assert.equal(await store.tasks.succeed(task.id, worker, { results: [], extra: {}, usage }, Date.now()), true);
        }
      };
      const startedAt = performance.now();
      await Promise.all([
        ...Array.from({ length: 24 }, (_, index) => submit(index % 2 === 0 ? first : second, index)),
        work(first, 'w1'),
        work(second, 'w2'),
      ]);
      assert.ok(performance.now() - startedAt < 15_000, `no deadlock waited out: ${Math.round(performance.now() - startedAt)} ms`);
      const recount = async (counted: string, fromRows: string) => {
        const [{ rows: kept }, { rows: actual }] = await Promise.all([adminQuery(counted), adminQuery(fromRows)]);
        assert.deepEqual(kept, actual);
      };
      const spent = 'task_spent_millis(status, billable_seconds, billed_seconds)';
      await recount(
        `SELECT sum(queued)::int AS queued FROM ${schema}.queue_size`,
        `SELECT count(*)::int AS queued FROM ${schema}.tasks WHERE status = 'TASK_STATUS_QUEUED'`,
      );
      await recount(
        `SELECT key_id, sum(queued)::int AS queued, sum(in_flight)::int AS in_flight FROM ${schema}.key_counts GROUP BY key_id HAVING sum(in_flight) <> 0 ORDER BY key_id`,
        `SELECT key_id, count(*) FILTER (WHERE status = 'TASK_STATUS_QUEUED')::int AS queued, count(*)::int AS in_flight FROM ${schema}.tasks
           WHERE status IN ('TASK_STATUS_QUEUED', 'TASK_STATUS_PROCESSING') GROUP BY key_id ORDER BY key_id`,
      );
      await recount(
        `SELECT key_id, span, sum(millis)::bigint AS millis FROM ${schema}.key_seconds GROUP BY key_id, span HAVING sum(millis) <> 0 ORDER BY key_id, span`,
        `SELECT key_id, span, sum(${schema}.${spent})::bigint AS millis FROM ${schema}.tasks CROSS JOIN (VALUES ('day'), ('month')) AS spans (span)
           GROUP BY key_id, span HAVING sum(${schema}.${spent}) <> 0 ORDER BY key_id, span`,
      );
    } finally {
      await close();
    }
  });

  test('submissions that arrive together are stored by one statement; each is answered after its row is committed', async () => {
    const { first, second, close } = await twoProcesses();
    try {
      const heard = nextEvent(second, (event) => event.type === 'queued', 2000);
      const tasks = Array.from({ length: 200 }, () => newTask());
      await Promise.all(tasks.map((task) => first.tasks.insert(task)));
      for (const task of tasks) assert.equal((await second.tasks.get(task.id))?.status, 'TASK_STATUS_QUEUED', task.id);
      assert.deepEqual(await heard, { type: 'queued', model: 'wan2.7-t2v' });

      // A row the database refuses (an id taken) fails the statement, and with it every task sent in it.
      const group = Array.from({ length: 50 }, () => newTask());
      group[30] = { ...group[30], id: group[20].id };
      const outcomes = await Promise.allSettled(group.map((task) => first.tasks.insert(task)));
      assert.equal(outcomes[20].status, 'rejected', 'the first of the two ids went in the same statement as the second');
      assert.equal(outcomes[30].status, 'rejected');
      for (const [index, outcome] of outcomes.entries()) {
        const stored = await second.tasks.get(group[index].id);
        if (outcome.status === 'fulfilled') assert.ok(stored, `answered task ${index} is stored`);
        else if (index !== 30) assert.equal(stored, undefined, `refused task ${index} is not stored`);
      }
    } finally {
      await close();
    }
  });

  test('a group whose rows span two days of two months adds each second to its own UTC day and month', async () => {
    const { first, second, close } = await twoProcesses();
    try {
      // A group's seconds are summed per instant, then per period. On a fresh store the first
      // submission goes alone (Batches); the other four are one group holding rows of the same
      // millisecond and rows on both sides of a midnight that ends a month.
      const newMonth = Date.UTC(2026, 11, 1);
      const lastOfNovember = newMonth - 1;
      const key = 'periods';
      const at = (createdAt: number, billableSeconds: number) => ({ ...newTask(key), createdAt, billableSeconds });
      const group = [at(lastOfNovember, 2), at(lastOfNovember, 3), at(newMonth, 4), at(newMonth + 5, 1.5), at(newMonth, 0.25)];
      await Promise.all(group.map((task) => first.tasks.insert(task)));
      assert.deepEqual(await keyTotals(second, key, lastOfNovember), { inFlight: 5, queued: 5, secondsToday: 5, secondsThisMonth: 5 });
      assert.deepEqual(await keyTotals(second, key, newMonth + 3600_000), { inFlight: 5, queued: 5, secondsToday: 5.75, secondsThisMonth: 5.75 });
    } finally {
      await close();
    }
  });
});

test('storage errors: a database restarting or unreachable is transient, and is not a full disk', () => {
  for (const code of ['57P01', '57P03', '08006', '08001', 'ECONNREFUSED', 'ECONNRESET', '40001', 'SQLITE_BUSY', 'ENOSPC']) {
    assert.equal(isTransientStoreError({ code }), true, code);
  }
  for (const code of ['23505', '42P01', '22P02', undefined]) assert.equal(isTransientStoreError({ code }), false, String(code));
  for (const code of ['57P01', '08006', 'ECONNREFUSED']) assert.equal(isDiskError({ code }), false, `${code} does not mark the data directory full`);
});

test('the listening connection gives up connecting to a server that accepts but never answers after connectTimeoutMs', { timeout: connectTimeoutMs + 5000 }, async (t) => {
  // What a network that drops packets looks like from here: TCP would wait minutes.
  const sockets: Socket[] = [];
  const silent = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  // After hooks run when the test times out too: a connection that never gives up fails the test, not the run.
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    silent.close();
  });
  const { port } = silent.address() as AddressInfo;
  const startedAt = Date.now();
  const { connection } = new Database({ url: `postgres://postgres@127.0.0.1:${port}/test`, poolSize: 1 }, new LocalEvents());
  const events = new PgEvents({ connection, channel: 'wan_events', events: new LocalEvents(), ownBackends: new Set() });
  await assert.rejects(events.start(), /timeout/i);
  const waited = Date.now() - startedAt;
  assert.ok(waited >= connectTimeoutMs - 100 && waited < connectTimeoutMs + 2000, `gave up after ${waited} ms, not ${connectTimeoutMs}`);
});
