import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig, publicUrl } from '../../src/config.js';
import { tempDir } from '../support/temp-dir.js';

test('defaults apply when nothing is set', () => {
  const config = loadConfig();
  assert.equal(config.port, 8080);
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.worker_concurrency, 2);
  assert.equal(config.result_url_ttl_seconds, 3600);
  assert.equal(path.isAbsolute(config.data_dir), true);
  assert.equal(Object.isFrozen(config), true);
});

test('flags beat environment, which beats the file, which beats defaults', () => {
  const file = path.join(tempDir(), 'wan.json');
  writeFileSync(file, JSON.stringify({ port: 7000, log_level: 'debug', lease_seconds: 9 }));
  const config = loadConfig({ flags: { port: '9000' }, env: { WAN_PORT: '8000', WAN_LOG_LEVEL: 'warn' }, file });
  assert.equal(config.port, 9000);
  assert.equal(config.log_level, 'warn');
  assert.equal(config.lease_seconds, 9);
  assert.equal(loadConfig({ env: { WAN_CONFIG: file } }).port, 7000, 'WAN_CONFIG names the file');
});

test('bad values are refused with the source and how to fix it', () => {
  assert.throws(() => loadConfig({ env: { WAN_PORT: 'abc' } }), (error: Error) =>
    error instanceof ConfigError && /WAN_PORT is "abc": use a whole number from 0 to 65535/.test(error.message));
  assert.throws(() => loadConfig({ flags: { worker_concurrency: '-1' } }), /--worker-concurrency is "-1": use a whole number from 0 to 256/);
  assert.throws(() => loadConfig({ env: { WAN_LOG_LEVEL: 'loud' } }), /use one of fatal, error, warn, info, debug, trace, silent/);
  const file = path.join(tempDir(), 'bad.json');
  writeFileSync(file, JSON.stringify({ prot: 1 }));
  assert.throws(() => loadConfig({ file }), /unknown key "prot"/);
  writeFileSync(file, '{oops');
  assert.throws(() => loadConfig({ file }), /cannot read the config file/);
});

test('the public URL defaults to the listening address', () => {
  assert.equal(publicUrl(loadConfig(), 4321), 'http://127.0.0.1:4321');
  assert.equal(publicUrl(loadConfig({ env: { WAN_HOST: '0.0.0.0' } }), 80), 'http://127.0.0.1:80');
  assert.equal(publicUrl(loadConfig({ env: { WAN_PUBLIC_URL: 'https://video.example.com/' } }), 80), 'https://video.example.com');
});
