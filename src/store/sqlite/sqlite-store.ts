import type Database from 'better-sqlite3';
import type { Store } from '../../spec/store.js';
import { LocalEvents } from '../local-events.js';
import { InsertCommitter } from './insert-committer.js';
import { SnapshotReader } from './snapshot-reader.js';
import { migrate } from './migrations.js';
import { openDatabase, readMapBytes } from './open-database.js';
import { SqliteRequestCounts } from './request-counts.js';
import { SqliteKeys } from './sqlite-keys.js';
import { SqliteRetention } from './sqlite-retention.js';
import { SqliteTasks } from './sqlite-tasks.js';
import { SqliteUploads } from './sqlite-uploads.js';
import { SqliteUsage } from './sqlite-usage.js';
import { SqliteWebhooks } from './sqlite-webhooks.js';

export interface SqliteStoreOptions {
  /** The store's clock, for lease times (tests move it). */
  clock?: () => number;
}

/**
 * The embedded store: one SQLite file (see openDatabase for its durability), one main connection
 * shared by its parts. Events reach only this process: another process on the same file finds
 * work and changes by polling.
 */
export class SqliteStore implements Store {
  readonly tasks: SqliteTasks;
  readonly keys: SqliteKeys;
  readonly webhooks: SqliteWebhooks;
  readonly uploads: SqliteUploads;
  readonly usage: SqliteUsage;
  readonly retention: SqliteRetention;
  readonly events = new LocalEvents();
  private readonly db: Database.Database;
  private readonly inserts: InsertCommitter;
  private readonly reads: SnapshotReader;
  private readonly requestCounts: SqliteRequestCounts;
  private readonly statements;

  constructor(file: string, options: SqliteStoreOptions = {}) {
    const clock = options.clock ?? Date.now;
    this.db = openDatabase(file);
    this.db.pragma(`mmap_size = ${readMapBytes}`);
    migrate(this.db);
    this.inserts = new InsertCommitter(file);
    this.reads = new SnapshotReader(file, this.db);
    this.tasks = new SqliteTasks(this.db, this.inserts, this.reads, this.events, clock);
    this.requestCounts = new SqliteRequestCounts(file);
    this.keys = new SqliteKeys(this.db, this.requestCounts);
    this.webhooks = new SqliteWebhooks(file, clock);
    this.uploads = new SqliteUploads(this.db);
    this.usage = new SqliteUsage(this.db);
    this.retention = new SqliteRetention(this.db, this.requestCounts, this.events);
    this.statements = {
      getSecret: this.db.prepare('SELECT value FROM secrets WHERE name = ?').pluck(),
      addSecret: this.db.prepare('INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)'),
      ping: this.db.prepare('SELECT 1').pluck(),
    };
  }

  async sharedSecret(name: string, create: () => string): Promise<string> {
    const existing = this.statements.getSecret.get(name) as string | undefined;
    if (existing !== undefined) return existing;
    // Another process may add it between the two statements: theirs wins, and both use it.
    this.statements.addSecret.run(name, create());
    return this.statements.getSecret.get(name) as string;
  }

  async ping(): Promise<void> {
    this.statements.ping.get();
  }

  async close(): Promise<void> {
    await this.inserts.close();
    await this.reads.close();
    this.requestCounts.close();
    this.webhooks.close();
    this.db.close();
  }
}
