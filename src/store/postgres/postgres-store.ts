import type { Logger } from 'pino';
import type { Store } from '../../spec/store.js';
import { LocalEvents } from '../local-events.js';
import { Database } from './database.js';
import { migrate } from './migrations.js';
import { PgEvents } from './pg-events.js';
import { PgKeys } from './pg-keys.js';
import { PgRetention } from './pg-retention.js';
import { PgTasks } from './pg-tasks.js';
import { PgUploads } from './pg-uploads.js';
import { PgUsage } from './pg-usage.js';
import { PgWebhooks } from './pg-webhooks.js';

const pingTimeoutMs = 3000;

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:5432/database`; the schema is the connection's search_path. */
  url: string;
  /** Connections the pool keeps at most (the LISTEN connection is one more). */
  poolSize: number;
  /** Hear other processes' events (a server does; a one-off command such as `wan keys` need not). */
  listen?: boolean;
  logger?: Logger;
  /** The longest wait for a statement's answer: queryTimeoutMs (database.ts) unless given. */
  queryTimeoutMs?: number;
}

/**
 * The store shared by many processes: every durable piece of state in one PostgreSQL database,
 * parts sharing one pool of connections. What one process writes, the others hear through
 * LISTEN/NOTIFY (PgEvents) the moment it commits.
 */
export class PostgresStore implements Store {
  readonly events: LocalEvents;
  readonly tasks: PgTasks;
  readonly keys: PgKeys;
  readonly webhooks: PgWebhooks;
  readonly uploads: PgUploads;
  readonly usage: PgUsage;
  readonly retention: PgRetention;
  private listener: PgEvents | undefined;

  private constructor(private readonly db: Database) {
    this.events = db.events;
    this.tasks = new PgTasks(db);
    this.keys = new PgKeys(db);
    this.webhooks = new PgWebhooks(db);
    this.uploads = new PgUploads(db);
    this.usage = new PgUsage(db);
    this.retention = new PgRetention(db);
  }

  /** Connects, brings the schema up to date, and starts hearing other processes. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(new Database(options, new LocalEvents()));
    const { db } = store;
    try {
      await db.session(migrate);
      await db.start();
      if (options.listen ?? true) {
        store.listener = new PgEvents({ connection: db.connection, channel: db.channel, events: store.events, ownBackends: db.ownBackends, logger: options.logger });
        await store.listener.start();
      }
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  async sharedSecret(name: string, create: () => string): Promise<string> {
    const read = async () =>
      (await this.db.query<{ value: string }>({ text: 'SELECT value FROM secrets WHERE name = $1', values: [name] })).rows[0]?.value;
    const existing = await read();
    if (existing !== undefined) return existing;
    // Another process may add it between the two statements: theirs wins, and both use it.
    await this.db.query({ text: 'INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', values: [name, create()] });
    return (await read())!;
  }

  /** Answers within pingTimeoutMs or fails: /readyz must say 503 at once when the server hangs, not hang with it. */
  async ping(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`the database did not answer within ${pingTimeoutMs} ms`), { code: '08006' })), pingTimeoutMs);
    });
    try {
      await Promise.race([this.db.query({ name: 'wan-ping', text: 'SELECT 1' }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.listener?.close();
    await this.db.close();
  }
}
