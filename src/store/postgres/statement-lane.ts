import pg from 'pg';
import type { Logger } from 'pino';
import type { Query } from './database.js';

export interface StatementLaneOptions {
  /** The store's connection settings (Database.connection). */
  connection: pg.ClientConfig;
  /** How long a statement may go unanswered before its connection is given up (Database's queryTimeoutMs). */
  queryTimeoutMs: number;
  /** Counts a connection's backend among this process's own while it lasts (Database.ownBackends). */
  own: (client: pg.Client) => void;
  /** How the driver's errors are told apart (Database's: a lost connection gets a code). */
  errorOf: (error: unknown) => unknown;
  logger?: Logger;
}

/**
 * One connection of its own for statements sent one at a time (Batches): the grouped submissions
 * and the batched task reads. Through the pool, a statement reaches its socket only on
 * process.nextTick (pg-pool hands out an idle connection there), that is once the promises of the
 * moment have all run: when the last statement's answer resumes the requests of its batch, the
 * next statement waited for every one of them to be answered, while the database sat idle. On a
 * connection of its own it is written at once. Measured against the pool (docs/benchmarks.md):
 * 1.30 times the random polls of 200,000 tasks a second, 1.10 times the submissions.
 *
 * The connection is made on first use and again after a failure: one the server closed, or one
 * given up after the statement timeout (a server gone silent), is ended, and the next statement
 * goes on a new one, so the lane recovers by itself as the pool does.
 */
export class StatementLane {
  /** The connection being made, then made: each statement's, until it fails. */
  private connection: Promise<pg.Client> | undefined;
  private closed = false;

  constructor(private readonly options: StatementLaneOptions) {}

  async query<R extends pg.QueryResultRow = any>(query: Query): Promise<pg.QueryResult<R>> {
    if (this.closed) throw new Error('the store is closed');
    const connecting = (this.connection ??= this.connect());
    let client: pg.Client;
    try {
      client = await connecting;
    } catch (error) {
      this.forget(connecting);
      throw this.options.errorOf(error);
    }
    try {
      return await client.query<R>(query as pg.QueryConfig);
    } catch (error) {
      // A database's own error leaves the connection ready for the next statement; anything else
      // (a timeout, a lost socket) leaves it in doubt.
      if (!(error instanceof pg.DatabaseError)) this.drop(connecting, client);
      throw this.options.errorOf(error);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const connecting = this.connection;
    this.connection = undefined;
    const client = await connecting?.catch(() => undefined);
    await client?.end().catch(() => undefined);
  }

  private connect(): Promise<pg.Client> {
    const { connection, queryTimeoutMs, own, logger } = this.options;
    const client = new pg.Client({ ...connection, query_timeout: queryTimeoutMs });
    const connecting = (async () => {
      try {
        await client.connect();
      } catch (error) {
        await client.end().catch(() => undefined);
        throw error;
      }
      if (this.closed) {
        await client.end();
        throw new Error('the store is closed');
      }
      own(client);
      return client;
    })();
    // A connection the server closed while idle: dropped here; without this listener the error would end the process.
    client.on('error', (error) => {
      logger?.warn({ err: error }, 'a database connection was closed');
      this.drop(connecting, client);
    });
    client.on('end', () => this.drop(connecting, client));
    return connecting;
  }

  /** Ends `client`, made by `connecting`; the next statement makes a new connection. */
  private drop(connecting: Promise<pg.Client>, client: pg.Client): void {
    this.forget(connecting);
    client.end().catch(() => undefined);
  }

  /** Forgets `connecting` if it is still the lane's (a newer connection may have taken its place). */
  private forget(connecting: Promise<pg.Client>): void {
    if (this.connection === connecting) this.connection = undefined;
  }
}
