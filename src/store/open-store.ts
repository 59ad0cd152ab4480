import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { type Config, ConfigError } from '../config.js';
import type { Store } from '../spec/store.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

/**
 * The store a config asks for: PostgreSQL at `database_url`, shared by every process that names
 * it; without one, the embedded SQLite file under the data directory. `listen: false` for a
 * one-off command that does not need to hear other processes.
 */
export async function openStore(config: Config, options: { logger?: Logger; listen?: boolean } = {}): Promise<Store> {
  if (config.database_url !== undefined) {
    if (!/^postgres(ql)?:\/\//.test(config.database_url)) {
      throw new ConfigError('database_url must be a PostgreSQL URL such as postgres://user:password@host:5432/database');
    }
    return PostgresStore.open({ url: config.database_url, poolSize: config.database_pool_size, ...options });
  }
  mkdirSync(config.data_dir, { recursive: true });
  return new SqliteStore(path.join(config.data_dir, 'wan.db'));
}
