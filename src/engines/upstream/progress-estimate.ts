import type { ModelRequest } from '../../models/model.js';
import { tierOfSize } from '../../models/output-size.js';

/**
 * Progress of a task at an upstream that reports only "queued" or "running": estimated from the
 * time since it was accepted against how long such a task usually takes. The estimate only
 * grows with time, and "running" always reads at least as high as "queued".
 */

export type UpstreamPhase = 'queued' | 'running';

/** A queued task reads 0–5 %; a running one 5–95 %, 100 being kept for the finished video. */
const queuedCeiling = 5;
const runningCeiling = 95;

/** Usual length of a generation: a fixed part plus a part per second of video, more at 1080P. */
const baseSeconds = 60;
const secondsPerVideoSecond = 20;
const fullHdFactor = 1.5;
/** Videoedit's `duration: 0` keeps the input's length, unknown here; its longest is assumed. */
const unknownVideoSeconds = 10;

export function expectedRunMs(request: ModelRequest): number {
  const duration = typeof request.duration === 'number' && request.duration > 0 ? request.duration : unknownVideoSeconds;
  const tier =
    typeof request.resolution === 'string' ? request.resolution : typeof request.size === 'string' ? tierOfSize(request.size) : '1080P';
  return 1000 * (baseSeconds + secondsPerVideoSecond * duration) * (tier === '1080P' ? fullHdFactor : 1);
}

export function estimateProgress(phase: UpstreamPhase, elapsedMs: number, expectedMs: number): { progressPercent: number; etaSeconds: number } {
  const share = Math.max(0, elapsedMs) / expectedMs;
  const etaSeconds = Math.max(0, Math.ceil((expectedMs - Math.max(0, elapsedMs)) / 1000));
  if (phase === 'queued') return { progressPercent: Math.floor(queuedCeiling * Math.min(1, share)), etaSeconds };
  // Fast at first and never reaching the ceiling: a late task creeps instead of stalling at a number.
  const running = queuedCeiling + (runningCeiling - queuedCeiling) * (1 - Math.exp(-1.5 * share));
  return { progressPercent: Math.min(runningCeiling, Math.floor(running)), etaSeconds };
}
