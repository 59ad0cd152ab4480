import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { configKeys, environmentVariable, flagName, type ConfigKey } from '../../src/config.js';

const readme = readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');

test('the README documents every configuration key with its flag, variable and default', () => {
  for (const key of Object.keys(configKeys) as ConfigKey[]) {
    const definition = configKeys[key];
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${key}\` |`));
    assert.ok(row, `README has no row for ${key}`);
    assert.ok(row.includes(`\`${flagName(key)}\``), `${key}: flag`);
    assert.ok(row.includes(`\`${environmentVariable(key)}\``), `${key}: environment variable`);
    assert.ok(row.includes(definition.default === undefined ? '| — |' : `| \`${definition.default}\` |`), `${key}: default`);
  }
});

test('the README quick start gives the install-and-start and the test commands', () => {
  assert.match(readme, /npm install && npm start/);
  assert.match(readme, /^npm test/m);
});
