import Database from 'better-sqlite3';

/**
 * Opens the task database the way every connection to it must: WAL, so readers never wait for
 * the writer; `synchronous = FULL`, so a committed task survives a power cut; and a busy
 * timeout, because another connection (the insert thread, `wan keys`, a second server) may hold
 * the write lock for a moment.
 */
export const connectionPragmas = ['journal_mode = WAL', 'synchronous = FULL', 'busy_timeout = 5000'];

/** `synchronous` NORMAL is for a connection whose writes may be lost to a power cut (request counts). */
export function openDatabase(file: string, synchronous: 'FULL' | 'NORMAL' = 'FULL'): Database.Database {
  const db = new Database(file);
  for (const pragma of connectionPragmas) db.pragma(pragma);
  if (synchronous !== 'FULL') db.pragma(`synchronous = ${synchronous}`);
  return db;
}
