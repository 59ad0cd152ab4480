/**
 * The store floor's statements (store-floor.ts): its own table of submissions, one row of an id
 * and the request's JSON text with one index, and the reading of a task's status and results.
 * grouped-insert.ts measures the database's work on the same insert.
 */
export const createTable = 'CREATE TABLE IF NOT EXISTS floor_submissions (id TEXT PRIMARY KEY, request TEXT NOT NULL)';
export const readTask = 'SELECT id, status, results_json FROM tasks WHERE id';

/** A group of rows ($1, the JSON text of `{ id, request }` objects) in one PostgreSQL statement, read as the store reads its groups. */
export const postgresInsert = 'INSERT INTO floor_submissions (id, request) SELECT id, request FROM jsonb_to_recordset($1::jsonb) AS row (id text, request text)';
