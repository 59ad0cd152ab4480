import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { fillKey, keyTotals } from '../support/key-totals.js';
import { storeConformance } from '../support/store-conformance.js';
import { tempDir } from '../support/temp-dir.js';

storeConformance('SQLite', async () => {
  const file = path.join(tempDir(), 'wan.db');
  return { store: new SqliteStore(file), another: async () => new SqliteStore(file) };
});

test('a database made before the key totals existed gets them from its rows when it migrates', async () => {
  const file = path.join(tempDir(), 'wan.db');
  const now = Date.now();
  const before = new SqliteStore(file);
  const expected = await fillKey(before, 'old', now);
  await before.close();
  // Back to the schema before the key totals' migration (step 5), its rows kept.
  const db = new Database(file);
  db.exec(`DROP TRIGGER tasks_key_counts_insert; DROP TRIGGER tasks_key_counts_delete; DROP TRIGGER tasks_key_counts_update;
    DROP TABLE key_counts; DROP TABLE key_seconds; PRAGMA user_version = 4;`);
  db.close();
  const after = new SqliteStore(file);
  try {
    assert.deepEqual(await keyTotals(after, 'old', now), expected);
  } finally {
    await after.close();
  }
});
