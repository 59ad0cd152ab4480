import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

/** The store a config asks for: the embedded SQLite file under the data directory. */
export function openStore(config: Config): SqliteStore {
  mkdirSync(config.data_dir, { recursive: true });
  return new SqliteStore(path.join(config.data_dir, 'wan.db'));
}
