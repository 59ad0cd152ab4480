import { after } from 'node:test';
import { pino } from 'pino';
import { type RunningServer, startServer } from '../../src/app.js';
import { createApiKey } from '../../src/auth/api-keys.js';
import { type ConfigKey, loadConfig } from '../../src/config.js';
import type { Engine } from '../../src/spec/engine.js';
import { TestApiClient } from './api-client.js';
import { tempDir } from './temp-dir.js';

/** A whole server in this process on a free loopback port, closed when the test file ends. */
export async function startInProcessServer(
  engines: Engine[],
  flags: Partial<Record<ConfigKey, string>> = {},
): Promise<{ server: RunningServer; client: TestApiClient; newClient: () => Promise<TestApiClient>; dataDir: string }> {
  const config = loadConfig({ flags: { data_dir: tempDir(), port: '0', log_level: 'silent', ...flags } });
  const server = await startServer(config, pino({ level: 'silent' }), { engines });
  after(() => server.close());
  const newClient = async () => new TestApiClient(server.url, (await createApiKey(server.store.keys, 'test', Date.now())).key);
  return { server, client: new TestApiClient(server.url, server.firstApiKey!), newClient, dataDir: config.data_dir };
}
