import assert from 'node:assert/strict';
import type { Store } from '../../src/spec/store.js';
import type { Admission } from '../../src/spec/task-store.js';
import type { TaskUsage } from '../../src/spec/usage.js';
import { models } from '../../src/models/registry.js';

/** What admission finds for a key: its tasks in flight and queued, its seconds of the UTC day and month. */
export interface KeyTotals {
  inFlight: number;
  queued: number;
  secondsToday: number;
  secondsThisMonth: number;
}

let sequence = 0;
const probes: [keyof KeyTotals, keyof Admission][] = [
  ['inFlight', 'maxInFlight'],
  ['queued', 'maxQueued'],
  ['secondsToday', 'maxSecondsPerDay'],
  ['secondsThisMonth', 'maxSecondsPerMonth'],
];

/**
 * Reads the totals through admission itself: a limit of 0 refuses any task and tells what the
 * store counts now, and the refused task is not stored. `createdAt` picks the day and month.
 */
export async function keyTotals(store: Store, keyId: string, createdAt: number): Promise<KeyTotals> {
  const totals = {} as KeyTotals;
  for (const [name, limit] of probes) {
    sequence++;
    const probe = { id: `0190-probe-${String(sequence).padStart(6, '0')}`, keyId, model: 'wan2.7-t2v' as const, request: { prompt: 'probe' }, seed: 1, webhookUrl: null, createdAt, billableSeconds: 1 };
    const outcome = await store.tasks.insert(probe, { admission: { [limit]: 0 } });
    assert.equal(outcome.outcome, 'refused', `a limit of 0 refuses (${limit})`);
    if (outcome.outcome === 'refused') totals[name] = outcome.current;
  }
  return totals;
}

/**
 * Gives `keyId` four tasks of 5 s created at `createdAt`: one ended having billed 3 s, one
 * running, two queued. Answers the totals admission must then find.
 */
export async function fillKey(store: Store, keyId: string, createdAt: number): Promise<KeyTotals> {
  for (let index = 0; index < 4; index++) {
    sequence++;
    const task = { id: `0190-fill-${String(sequence).padStart(6, '0')}`, keyId, model: 'wan2.7-t2v' as const, request: { prompt: 'p' }, seed: 1, webhookUrl: null, createdAt, billableSeconds: 5 };
    assert.equal((await store.tasks.insert(task)).outcome, 'created');
  }
  const allModels = models.map((model) => model.id);
  const ended = await store.tasks.leaseNext('w', 60_000, allModels);
  const usage: TaskUsage = { model: 'wan2.7-t2v', engine: 'preview', billedSeconds: 3, outputSeconds: 3, inputSeconds: 0, resolution: '720P', audio: true, listPrice: 0.3, cost: 0.3, currency: 'USD' };
  assert.equal(await store.tasks.succeed(ended!.id, 'w', { results: [], extra: {}, usage }, createdAt), true);
  assert.ok(await store.tasks.leaseNext('w', 60_000, allModels));
  return { inFlight: 3, queued: 2, secondsToday: 18, secondsThisMonth: 18 };
}
