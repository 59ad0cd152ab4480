import Database from 'better-sqlite3';

/**
 * Opens the task database the way every connection to it must: WAL, so readers never wait for
 * the writer; `synchronous = FULL`, so a committed task survives a power cut; and a busy
 * timeout, because another connection (the insert thread, `wan keys`, a second server) may hold
 * the write lock for a moment.
 */
export const connectionPragmas = ['journal_mode = WAL', 'synchronous = FULL', 'busy_timeout = 5000'];

/**
 * How much of the file the main connection reads through a memory map: a poll of a task nobody
 * polled lately then reads the row from memory, not with a system call per page (a third off
 * the lookup with 200,000 tasks). Writes still go through the journal as always.
 */
export const readMapBytes = 256 * 1024 * 1024;

/** `synchronous` NORMAL is for a connection whose writes may be lost to a power cut (request counts). */
export function openDatabase(file: string, synchronous: 'FULL' | 'NORMAL' = 'FULL'): Database.Database {
  const db = new Database(file);
  for (const pragma of connectionPragmas) db.pragma(pragma);
  if (synchronous !== 'FULL') db.pragma(`synchronous = ${synchronous}`);
  return db;
}
