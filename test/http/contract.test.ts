import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RouteOptions } from 'fastify';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createServer, httpSettingsOf, type ServerDependencies } from '../../src/http/create-server.js';

/**
 * The contract as served is the contract as documented: the routes the server really registers
 * (seen by Fastify's onRoute hook) are exactly the operations of the OpenAPI document it serves,
 * so a route cannot be added, removed or renamed without its documentation following.
 */

/** Registering routes calls none of the dependencies: they stay empty. */
const unused = {} as never;
const dependencies: ServerDependencies = {
  tasks: unused,
  auth: unused,
  blobs: unused,
  uploads: unused,
  store: unused,
  toolchain: unused,
  resultRetentionMs: 0,
  signer: unused,
  logger: pino({ level: 'silent' }),
  maxBodyBytes: 1024 * 1024,
  uploadUrlTtlSeconds: 60,
  httpSettings: httpSettingsOf(loadConfig({ flags: { data_dir: '/nonexistent' } })),
  isReady: async () => ({ ready: true, checks: {} }),
  // Registered, and hidden from the document: the operator's route, not the clients'.
  metrics: { exposition: unused, token: 'metrics-token' },
};

/**
 * Routes that no OpenAPI operation can describe: the CORS preflight, answered for every path
 * (docs/api.md documents it). Routes hidden from the document (`schema.hide`, the convention of
 * OpenAPI generators) are the playground's page and its files: not part of the API.
 */
const undocumentable = new Set(['OPTIONS *']);

/** `/v3/files/*` and `/v3/files/{key}` are the same path: parameters compared by position. */
function pathShape(path: string): string {
  return path.replace(/\{[^}]+\}/g, '{}').replace(/:[^/]+/g, '{}').replace(/\*$/, '{}');
}

test('every route the server registers is documented in /openapi.json, and every documented operation is served', async () => {
  const app = createServer(dependencies);
  const registered: RouteOptions[] = [];
  app.addHook('onRoute', (route) => {
    registered.push(route);
  });
  await app.ready();

  const served = new Set<string>();
  const headRoutes = new Set<string>();
  for (const route of registered) {
    if ((route.schema as { hide?: boolean } | undefined)?.hide) continue;
    for (const method of [route.method].flat()) {
      if (undocumentable.has(`${method} ${route.url}`)) continue;
      const name = `${method} ${pathShape(route.url)}`;
      if (method === 'HEAD') headRoutes.add(name);
      else served.add(name);
    }
  }
  const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
  const documented = new Set<string>();
  for (const [path, operations] of Object.entries(document.paths as Record<string, object>)) {
    for (const method of Object.keys(operations)) documented.add(`${method.toUpperCase()} ${pathShape(path)}`);
  }

  assert.ok(served.size >= 10, `the hook saw the routes (${[...served].join(', ')})`);
  const undocumented = [...served].filter((route) => !documented.has(route));
  assert.deepEqual(undocumented, [], 'served but missing from the OpenAPI document');
  const unserved = [...documented].filter((route) => !served.has(route));
  assert.deepEqual(unserved, [], 'documented but not served');
  // Fastify answers HEAD for every GET (the same headers, no body), and for nothing else.
  for (const head of headRoutes) assert.ok(served.has(head.replace(/^HEAD/, 'GET')), `${head} has no GET`);
  await app.close();
});
