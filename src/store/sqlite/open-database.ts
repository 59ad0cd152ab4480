import Database from 'better-sqlite3';

/**
 * Opens the task database the way every connection to it must: WAL, so readers never wait for
 * the writer; `synchronous = FULL`, so a committed task survives a power cut; and a busy
 * timeout, because another connection (the insert thread, `wan keys`, a second server) may hold
 * the write lock for a moment.
 */
export const connectionPragmas = ['journal_mode = WAL', 'synchronous = FULL', 'busy_timeout = 5000'];

export function openDatabase(file: string): Database.Database {
  const db = new Database(file);
  for (const pragma of connectionPragmas) db.pragma(pragma);
  return db;
}

export const insertTaskSql = `INSERT INTO tasks (id, key_id, model, status, request_json, seed, created_at)
  VALUES (@id, @keyId, @model, 'TASK_STATUS_QUEUED', @request, @seed, @createdAt)`;

/** One row for insertTaskSql, already serialised: it crosses to the commit thread as is. */
export interface InsertRow {
  id: string;
  keyId: string;
  model: string;
  request: string;
  seed: number;
  createdAt: number;
}
