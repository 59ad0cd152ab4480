import type { EngineOperation } from '../../spec/engine.js';

/**
 * What the task row keeps of a task handed to an upstream: enough for any process, after any
 * restart, to follow it to its end without the request or its media, and without sending it
 * again. Plain JSON; no secret.
 */
export interface UpstreamOperation {
  engine: string;
  /** The upstream's own id of the task. */
  upstreamTaskId: string;
  /** When the upstream accepted the task, in epoch milliseconds; drives polling and progress. */
  acceptedAt: number;
  /** How long such a task usually takes, in milliseconds: the progress estimate when the upstream gives none. */
  expectedRunMs: number;
  /** What the upstream could not do as asked, decided when it was sent; `extra.warnings` of the result. */
  warnings: string[];
}

/**
 * Operations saved before `expectedRunMs` and `warnings` were kept in them (a task in flight
 * across an upgrade) are followed with the longest usual run time and no warnings.
 */
const longestExpectedRunMs = 1000 * (60 + 20 * 15) * 1.5;

/** The operation if `operation` is one of `engine`'s, else undefined (garbage, another engine's). */
export function readUpstreamOperation(operation: EngineOperation, engine: string): UpstreamOperation | undefined {
  const { engine: owner, upstreamTaskId, acceptedAt, expectedRunMs, warnings } = (operation ?? {}) as Partial<
    Record<keyof UpstreamOperation, unknown>
  >;
  if (owner !== engine || typeof upstreamTaskId !== 'string' || upstreamTaskId === '') return undefined;
  if (typeof acceptedAt !== 'number' || !Number.isFinite(acceptedAt)) return undefined;
  return {
    engine,
    upstreamTaskId,
    acceptedAt,
    expectedRunMs: typeof expectedRunMs === 'number' && expectedRunMs > 0 ? expectedRunMs : longestExpectedRunMs,
    warnings: Array.isArray(warnings) ? warnings.filter((warning): warning is string => typeof warning === 'string') : [],
  };
}
