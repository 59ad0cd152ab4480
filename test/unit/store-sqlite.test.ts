import path from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { storeConformance } from '../support/store-conformance.js';
import { tempDir } from '../support/temp-dir.js';

storeConformance('SQLite', async () => {
  const file = path.join(tempDir(), 'wan.db');
  return { store: new SqliteStore(file), another: async () => new SqliteStore(file) };
});
