import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineRegistry } from '../../src/engines/engine-registry.js';
import { parseRoutes } from '../../src/engines/routes.js';
import { FakeEngine } from '../support/fake-engine.js';

test('routes name each model\'s engines in order; * covers the models not named', () => {
  assert.deepEqual(parseRoutes('wan2.7-t2v=dashscope, novita; *=novita'), {
    'wan2.7-t2v': ['dashscope', 'novita'],
    'wan2.7-i2v': ['novita'],
    'wan2.7-r2v': ['novita'],
    'wan2.7-videoedit': ['novita'],
  });
  assert.deepEqual(parseRoutes(undefined), {});
});

test('a route that cannot be read, or names an unknown model, is refused with the part at fault', () => {
  assert.throws(() => parseRoutes('wan2.7-t2v'), /"wan2\.7-t2v" is not model=engine\[,engine…\]/);
  assert.throws(() => parseRoutes('wan2.7-t2x=preview'), /"wan2\.7-t2x" is not a model; the models are wan2\.7-t2v, wan2\.7-i2v/);
});

test('the registry refuses a route to an engine that does not exist, and sends unrouted models to the default', () => {
  const preview = new FakeEngine({ name: 'preview' });
  assert.throws(() => new EngineRegistry([preview], 'preview', { 'wan2.7-t2v': ['dashscope'] }), /no engine named "dashscope"; known: preview/);
  const registry = new EngineRegistry([preview, new FakeEngine({ name: 'cloud' })], 'preview', { 'wan2.7-i2v': ['cloud', 'preview'] });
  assert.deepEqual(registry.enginesFor('wan2.7-i2v').map((engine) => engine.name), ['cloud', 'preview']);
  assert.deepEqual(registry.enginesFor('wan2.7-t2v').map((engine) => engine.name), ['preview']);
});
