import pg from 'pg';
import type { Logger } from 'pino';
import type { TaskEvent } from '../../spec/task-events.js';
import type { LocalEvents } from '../local-events.js';
import { StatementLane } from './statement-lane.js';

/** BIGINT (epoch milliseconds, counts) as a number: every value the store keeps is far below 2^53. */
const int8 = 20;
/** JSON columns stay text, so both backends decode task rows with one table (see task-rows.ts). */
const json = 114;
const jsonb = 3802;
const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === int8) return Number;
    if (oid === json || oid === jsonb) return (value: string) => value;
    return pg.types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * The database's own clock in epoch milliseconds, for lease times: every process compares
 * leases against the same clock, whatever its own says. `clock_timestamp()`, not `now()`, which
 * stands still for a whole transaction.
 */
export const databaseNow = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

/**
 * The code given to a connection failure that the driver reports without one (a socket that
 * ended mid-query, a pool that timed out connecting): 08006 connection_failure, as JDBC reports
 * it. With a code, storage-errors.ts can tell it from a real failure, and the write is retried.
 */
const connectionFailure = '08006';

/**
 * The longest wait for a new connection: a server that does not answer (a network cut drops
 * packets rather than refusing them) must not hold a request, /readyz or the listening
 * connection's retries for the minutes TCP would wait.
 */
export const connectTimeoutMs = 5000;

/**
 * The longest wait for a statement's answer. Every statement the store runs for a request or a
 * worker takes milliseconds; one unanswered this long is on a connection whose server vanished
 * without closing it (a network cut), which TCP would notice only after many minutes. Reads and
 * submissions go one statement at a time (batches.ts), so a hung one would stall every poll of
 * the process: timed out, its connection is dropped from the pool and the next statement goes
 * on a new one. Work that may take longer (migrations, which wait for each other) runs on a
 * session of its own (Database.session).
 */
export const queryTimeoutMs = 30_000;

export interface Query {
  /** Names a statement prepared once per connection: for the statements every request runs. */
  name?: string;
  text: string;
  values?: unknown[];
  /** Rows as arrays in select-list order, for task rows (see task-rows.ts). */
  rowMode?: 'array';
}

/** What a transaction's work can do: query, and announce an event once the transaction commits. */
export interface Transaction {
  query<R extends pg.QueryResultRow = any>(query: Query): Promise<pg.QueryResult<R>>;
  announce(event: TaskEvent): void;
}

export interface DatabaseOptions {
  url: string;
  poolSize: number;
  logger?: Logger;
  /** queryTimeoutMs unless given (tests). */
  queryTimeoutMs?: number;
}

/**
 * The pool of connections every part of the PostgreSQL store shares, and the two ways its parts
 * write: one statement (which announces its own events, see announcingChange()), or a transaction
 * whose events are sent with `pg_notify` before COMMIT. Either way an event leaves only with a
 * committed write, and is published to this process's listeners as soon as the write returns;
 * the copy that comes back through LISTEN is recognised by the backend that sent it and dropped.
 *
 * A connection the server closes (a restart, an administrator) is dropped from the pool and a
 * new one made for the next query, so the store recovers by itself once the server is back.
 */
export class Database {
  readonly pool: pg.Pool;
  /** The server processes behind this process's connections (the pool's, the lanes'): their notifications are our own. */
  readonly ownBackends = new Set<number>();
  /** The connections of their own that parts of the store took (lane()). */
  private readonly lanes: StatementLane[] = [];
  /** Where this store's events go: the channel is per schema, so stores in one database stay apart. */
  channel = 'wan_events';

  /** What every connection of the store is made with: the pool's, a session's, the listening one's. */
  readonly connection: pg.ClientConfig;

  constructor(
    private readonly options: DatabaseOptions,
    readonly events: LocalEvents,
  ) {
    this.connection = { connectionString: options.url, types: typeParsers, connectionTimeoutMillis: connectTimeoutMs, application_name: 'wan-api' };
    this.pool = new pg.Pool({
      ...this.connection,
      max: options.poolSize,
      query_timeout: options.queryTimeoutMs ?? queryTimeoutMs,
      idleTimeoutMillis: 30_000,
    });
    this.pool.on('connect', (client) => this.own(client));
    // An idle connection the server closed: the pool drops it; without this listener the error
    // would end the process.
    this.pool.on('error', (error) => options.logger?.warn({ err: error }, 'a database connection was closed'));
  }

  /**
   * A connection of its own for statements sent one at a time (see StatementLane), beside the
   * pool; ended with the store.
   */
  lane(): StatementLane {
    const lane = new StatementLane({
      connection: this.connection,
      queryTimeoutMs: this.options.queryTimeoutMs ?? queryTimeoutMs,
      own: (client) => this.own(client),
      errorOf: withCode,
      logger: this.options.logger,
    });
    this.lanes.push(lane);
    return lane;
  }

  /** Settings known only once connected: the channel of this schema. */
  async start(): Promise<void> {
    const { rows } = await this.query({ text: 'SELECT current_schema() AS schema' });
    this.channel = channelOf(rows[0].schema);
  }

  async query<R extends pg.QueryResultRow = any>(query: Query): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(query as pg.QueryConfig);
    } catch (error) {
      throw withCode(error);
    }
  }

  /**
   * A statement that sends its own notifications (announcingChange), on the channel it finds in
   * $1; its own values follow. The caller publishes to this process what the rows say happened.
   */
  async write<R extends pg.QueryResultRow = any>(query: Query): Promise<pg.QueryResult<R>> {
    return this.query<R>(this.announcing(query));
  }

  /** `query` with the channel as its $1, for a statement that sends its own notifications (write). */
  announcing(query: Query): Query {
    return { ...query, values: [this.channel, ...(query.values ?? [])] };
  }

  /** Runs `work` in one transaction; the events it announced are sent before COMMIT and published after. */
  async transaction<T>(work: (transaction: Transaction) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw withCode(error);
    }
    const announced: TaskEvent[] = [];
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work({
        query: (query) => client.query(query as pg.QueryConfig).catch((error: unknown) => Promise.reject(withCode(error))),
        announce: (event) => announced.push(event),
      });
      if (announced.length > 0) {
        await client.query({
          text: 'SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload',
          values: [this.channel, announced.map((event) => JSON.stringify(event))],
        });
      }
      await client.query('COMMIT');
      for (const event of announced) this.events.publish(event);
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
      throw withCode(error);
    } finally {
      // A connection that could not even roll back is closed rather than handed to the next user.
      client.release(broken);
    }
  }

  /**
   * Runs `work` on a connection of its own, outside the pool and without its statement timeout:
   * for statements that may rightly take long (migrations, which wait for another process's).
   */
  async session<T>(work: (client: pg.ClientBase) => Promise<T>): Promise<T> {
    const client = new pg.Client(this.connection);
    // A connection lost between two statements: the next one fails; without this listener the error would end the process.
    client.on('error', (error) => this.options.logger?.warn({ err: error }, 'a database session was closed'));
    try {
      await client.connect();
      return await work(client);
    } catch (error) {
      throw withCode(error);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.lanes.map((lane) => lane.close()));
    await this.pool.end();
  }

  /** Counts the backend behind `client` among this process's own while the connection lasts. */
  private own(client: pg.ClientBase): void {
    const pid = backendOf(client);
    if (pid === undefined) return;
    this.ownBackends.add(pid);
    client.on('end', () => this.ownBackends.delete(pid));
  }
}

/**
 * A statement that announces a change of a task: `update` is an UPDATE … RETURNING id, version,
 * status (and whatever else the caller reads); the notification is sent by the same statement,
 * so it leaves exactly when the update commits. The channel is $1 (Database.write). `more` adds
 * common table expressions over `changed` and columns (further notifications) to the answer.
 */
export function announcingChange(update: string, more: { ctes?: string; columns?: string } = {}): string {
  return `WITH changed AS (${update})${more.ctes ? `, ${more.ctes}` : ''}
    SELECT changed.*, pg_notify($1, json_build_object('type', 'changed', 'taskId', id, 'version', version, 'status', status)::text)
      ${more.columns ? `, ${more.columns}` : ''}
    FROM changed`;
}

/** Queued tasks over every key, from the total the queue_size trigger keeps. */
export const queuedTotal = '(SELECT sum(queued) FROM queue_size)';

/** The notification text of a `queued` event, over rows that have a `model` column. */
export const queuedEvent = `json_build_object('type', 'queued', 'model', model)::text`;

/** The backend process id of a connection, once connected. */
function backendOf(client: pg.ClientBase): number | undefined {
  const pid = (client as unknown as { processID?: number | null }).processID;
  return typeof pid === 'number' ? pid : undefined;
}

/** LISTEN channels are identifiers of at most 63 bytes; a longer schema name is hashed into one. */
function channelOf(schema: string): string {
  const channel = schema === 'public' ? 'wan_events' : `wan_events:${schema}`;
  if (Buffer.byteLength(channel) <= 63) return channel;
  let hash = 0;
  for (const char of schema) hash = (Math.imul(hash, 31) + char.codePointAt(0)!) >>> 0;
  return `wan_events:${schema.slice(0, 30)}:${hash.toString(16)}`;
}

/** What the driver says, without a code, when a connection failed or could not be made. */
const lostConnection = /connection|terminated|timeout|not queryable/i;

function withCode(error: unknown): unknown {
  if (error instanceof Error && !(error instanceof pg.DatabaseError) && (error as { code?: unknown }).code === undefined && lostConnection.test(error.message)) {
    Object.assign(error, { code: connectionFailure });
  }
  return error;
}
