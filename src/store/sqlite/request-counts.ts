import type Database from 'better-sqlite3';
import { openDatabase } from './open-database.js';

/**
 * Requests per minute of each key, in a file of their own beside the task database. Counting is
 * a synchronous write on the main thread: in the task database it would wait, event loop and all,
 * for the write lock that the insert thread holds through each commit's fsync while submissions
 * pour in. In its own file nobody else writes but other counting connections, and it commits
 * without an fsync (WAL, synchronous NORMAL: a power cut may forget the last counts, never
 * corrupt them). The rate limiter writes once per share of requests, not once per request.
 */
export class SqliteRequestCounts {
  private readonly db: Database.Database;
  private readonly statements;

  constructor(taskDatabaseFile: string) {
    this.db = openDatabase(`${taskDatabaseFile}.request-counts`, 'NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS request_counts (
      key_id TEXT NOT NULL,
      window_start INTEGER NOT NULL,
      count INTEGER NOT NULL,
      PRIMARY KEY (key_id, window_start)
    )`);
    this.statements = {
      count: this.db
        .prepare(
          `INSERT INTO request_counts (key_id, window_start, count) VALUES (@keyId, @windowStart, @amount)
           ON CONFLICT (key_id, window_start) DO UPDATE SET count = count + @amount RETURNING count`,
        )
        .pluck(),
      forget: this.db.prepare('DELETE FROM request_counts WHERE window_start < ?'),
    };
  }

  count(keyId: string, windowStart: number, amount: number): number {
    return this.statements.count.get({ keyId, windowStart, amount }) as number;
  }

  /** Drops the counts of windows that started before `before`; answers how many. */
  forgetBefore(before: number): number {
    return this.statements.forget.run(before).changes;
  }

  close(): void {
    this.db.close();
  }
}
