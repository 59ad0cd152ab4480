import type { EngineOperation } from '../../spec/engine.js';

/**
 * What the task row keeps of a task handed to an upstream: enough for any process, after any
 * restart, to follow it without sending it again. Plain JSON; no secret.
 */
export interface UpstreamOperation {
  engine: string;
  /** The upstream's own id of the task. */
  upstreamTaskId: string;
  /** When the upstream accepted the task, in epoch milliseconds; drives polling and progress. */
  acceptedAt: number;
}

/** The operation if `operation` is one of `engine`'s, else undefined (garbage, another engine's). */
export function readUpstreamOperation(operation: EngineOperation, engine: string): UpstreamOperation | undefined {
  const { engine: owner, upstreamTaskId, acceptedAt } = (operation ?? {}) as Partial<Record<keyof UpstreamOperation, unknown>>;
  if (owner !== engine || typeof upstreamTaskId !== 'string' || upstreamTaskId === '') return undefined;
  if (typeof acceptedAt !== 'number' || !Number.isFinite(acceptedAt)) return undefined;
  return { engine, upstreamTaskId, acceptedAt };
}
