import { ApiError } from '../../spec/api-error.js';
import type { Engine, EngineJob, EngineOperation, EngineStatus } from '../../spec/engine.js';
import { nextCheckDelayMs } from './poll-interval.js';
import { estimateProgress, expectedRunMs } from './progress-estimate.js';
import { ProgressFloor } from './progress-floor.js';
import { mirrorResults } from './result-mirror.js';
import {
  connectionSettings,
  upstreamSettings,
  type UpstreamConnection,
  type UpstreamDefaults,
  type UpstreamEngineOptions,
  type UpstreamSettings,
} from './upstream-engine-options.js';
import { withUpstreamMediaUrls } from './upstream-media.js';
import { readUpstreamOperation, type UpstreamOperation } from './upstream-operation.js';
import type { PollOutcome, UpstreamProtocol } from './upstream-protocol.js';

/**
 * An engine that has a cloud carry the task out: it hands the task over, saves the upstream's
 * task id in the operation, checks on it with growing intervals (all waits on one process-wide
 * timer), and copies the finished video into the job's workDir. What is particular to one
 * upstream's protocol is in its UpstreamProtocol; an engine of one upstream is a subclass that
 * gives its defaults and its protocol.
 *
 * Nothing of a task lives only in memory: a process that never saw `start` follows a task from
 * its saved operation alone, and never creates it again.
 */
export class UpstreamEngine implements Engine {
  readonly name: string;
  readonly capacity: number;
  /** The task goes on at the upstream while no process of ours runs; its operation resumes it. */
  readonly survivesRestart = true;
  private readonly progressFloor = new ProgressFloor();
  private readonly settings: UpstreamSettings;
  private readonly protocol: UpstreamProtocol;

  /** `protocolFor` builds the protocol over the connection the options and defaults set up. */
  constructor(
    options: UpstreamEngineOptions,
    defaults: UpstreamDefaults,
    protocolFor: (connection: UpstreamConnection) => UpstreamProtocol,
  ) {
    this.settings = upstreamSettings(options, defaults);
    this.protocol = protocolFor(connectionSettings(this.settings));
    this.name = this.settings.name;
    this.capacity = this.settings.capacity;
  }

  async start(job: EngineJob): Promise<EngineOperation> {
    const request = await withUpstreamMediaUrls(job, this.settings.mediaUrl);
    const upstreamTaskId = await this.protocol.create(job, request);
    const operation: UpstreamOperation = { engine: this.name, upstreamTaskId, acceptedAt: this.settings.clock() };
    return { ...operation };
  }

  async status(operation: EngineOperation, job: EngineJob): Promise<EngineStatus> {
    const saved = readUpstreamOperation(operation, this.name);
    if (saved === undefined) return { state: 'lost' };
    const outcome = await this.protocol.poll(saved.upstreamTaskId);
    switch (outcome.state) {
      case 'queued':
      case 'running':
      case 'unreachable':
        return this.running(saved, job, outcome);
      case 'failed':
        this.progressFloor.forget(saved.upstreamTaskId);
        return { state: 'failed', error: outcome.error };
      case 'succeeded':
        this.progressFloor.forget(saved.upstreamTaskId);
        return this.succeeded(saved, job, outcome.videoUrls, outcome.extra);
    }
  }

  async changed(_operation: EngineOperation, timeoutMs: number): Promise<void> {
    // An upstream tells nothing by itself: the next check is due when the wait is over.
    await this.settings.scheduler.sleep(timeoutMs);
  }

  async cancel(operation: EngineOperation): Promise<void> {
    const saved = readUpstreamOperation(operation, this.name);
    if (saved === undefined) return;
    this.progressFloor.forget(saved.upstreamTaskId);
    await this.protocol.cancel(saved.upstreamTaskId);
  }

  private running(
    saved: UpstreamOperation,
    job: EngineJob,
    outcome: Extract<PollOutcome, { state: 'queued' | 'running' | 'unreachable' }>,
  ): EngineStatus {
    const ageMs = this.settings.clock() - saved.acceptedAt;
    const estimate = estimateProgress(outcome.state === 'queued' ? 'queued' : 'running', ageMs, expectedRunMs(job.request));
    // After a check without an answer, only the estimate (and the floor of what was reported) is left.
    const told: { progressPercent?: number; etaSeconds?: number } = outcome.state === 'unreachable' ? {} : outcome;
    const progressPercent = this.progressFloor.raise(saved.upstreamTaskId, clampPercent(told.progressPercent ?? estimate.progressPercent));
    return {
      state: 'running',
      progressPercent,
      etaSeconds: Math.max(0, Math.round(told.etaSeconds ?? estimate.etaSeconds)),
      nextCheckMs: nextCheckDelayMs(
        { ageMs, retryAfterMs: outcome.retryAfterMs, lastCheckFailed: outcome.state === 'unreachable' },
        this.settings.poll,
      ),
    };
  }

  private async succeeded(saved: UpstreamOperation, job: EngineJob, videoUrls: string[], extra: Record<string, unknown>): Promise<EngineStatus> {
    try {
      const videos = await mirrorResults(this.name, videoUrls, job.workDir, this.settings.downloadResult);
      return {
        state: 'succeeded',
        videos,
        extra: { ...extra, upstream_task_id: saved.upstreamTaskId, warnings: this.protocol.warnings(job) },
      };
    } catch (error) {
      if (error instanceof ApiError) return { state: 'failed', error };
      throw error;
    }
  }
}

/** Below 100 while running: 100 means the video is there. */
function clampPercent(percent: number): number {
  return Math.min(99, Math.max(0, Math.floor(percent)));
}
