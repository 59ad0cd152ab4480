import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sharedLocalBlobs, startCluster } from '../support/cluster.js';
import { postgresUnavailable } from '../support/postgres.js';

/**
 * Per-key limits as they must hold with several processes: two real `wan serve` API processes
 * on one PostgreSQL schema, hammered at once with the same key. The limits are set with
 * `wan keys create`; nothing runs the tasks (no worker), so submitted tasks stay in flight.
 */
const skip = await postgresUnavailable();
const cluster = skip ? undefined : await startCluster({ blobs: sharedLocalBlobs(), apis: 2, workers: 0 });

/** Fires `total` requests, half at each API process, all at once; answers the statuses. */
async function hammer(key: string, total: number, request: (base: string, key: string) => Promise<Response>): Promise<number[]> {
  const answers = await Promise.all(
    Array.from({ length: total }, async (_, index) => {
      const response = await request(cluster!.api[index % 2].url, key);
      await response.arrayBuffer();
      return response.status;
    }),
  );
  return answers;
}

const submit = (base: string, key: string) =>
  fetch(`${base}/v3/async/wan2.7-t2v`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'a lighthouse', size: '1280*720', duration: 2 }),
  });

describe('per-key limits over two API processes on PostgreSQL', { skip }, () => {
  test('requests per minute: of 120 requests at once, half to each process, no more than the limit are answered', async () => {
    const key = (await cluster!.keys(['create', '--name', 'rpm', '--requests-per-minute', '25'])).trim();
    // Windows are clock minutes: keep the burst inside one.
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 10_000) await sleep(left + 50);
    const statuses = await hammer(key, 120, (base, apiKey) => fetch(`${base}/v3/async/tasks`, { headers: { authorization: `Bearer ${apiKey}` } }));
    const admitted = statuses.filter((status) => status === 200).length;
    assert.deepEqual(new Set(statuses), new Set([200, 429]), `only answers and refusals: ${statuses}`);
    assert.ok(admitted <= 25 + 1, `${admitted} admitted over a limit of 25`);
    assert.ok(admitted >= 25 - 2 * 1, `${admitted}: shares left unused cost at most one request per process at this limit`);
  });

  test('tasks in flight: of 40 submissions at once, half to each process, no more than the limit are accepted', async () => {
    const key = (await cluster!.keys(['create', '--name', 'in-flight', '--in-flight', '5'])).trim();
    const statuses = await hammer(key, 40, submit);
    assert.equal(statuses.filter((status) => status === 200).length, 5, `${statuses}`);
    assert.equal(statuses.filter((status) => status === 429).length, 35);
  });

  test('a quota set with wan keys update holds on both processes: refused before anything is stored', async () => {
    const key = (await cluster!.keys(['create', '--name', 'quota'])).trim();
    await cluster!.keys(['update', key.slice(0, 12), '--seconds-per-day', '5']);
    const statuses = await hammer(key, 10, submit);
    assert.equal(statuses.filter((status) => status === 200).length, 2, `2 s each under 5 s: ${statuses}`);
    const refusal = await submit(cluster!.api[1].url, key);
    const body = (await refusal.json()) as { reason: string; metadata: Record<string, unknown> };
    assert.equal(refusal.status, 400);
    assert.equal(body.reason, 'BILLING_BALANCE_NOT_ENOUGH');
    assert.deepEqual(body.metadata, { field: 'seconds_per_day', limit: 5, value: 4, requested: 2 });
    const listed = await fetch(`${cluster!.api[0].url}/v3/async/tasks`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(((await listed.json()) as { tasks: unknown[] }).tasks.length, 2);
  });
});
