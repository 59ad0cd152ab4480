import type { ModelId } from '../../models/model.js';
import { ApiError } from '../../spec/api-error.js';
import type { Engine, EngineJob, EngineOperation, EngineStatus, StatusContext } from '../../spec/engine.js';
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
 * An engine whose work runs on another server (a cloud, a GPU host): it hands the task over,
 * saves the server's task id in the operation, checks on it with growing intervals (all waits
 * on one process-wide timer), and copies the finished video into the attempt's workDir. What
 * is particular to one server's protocol is in its UpstreamProtocol; an engine of one kind is a
 * subclass that gives its defaults and its protocol.
 *
 * Nothing of a task lives only in memory, and nothing of the job is needed after `start`: a
 * process that never saw `start` follows a task from its saved operation alone, and never
 * creates it again.
 */
export class UpstreamEngine implements Engine {
  readonly name: string;
  readonly kind: string;
  readonly models: readonly ModelId[];
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
    this.kind = this.settings.kind;
    this.models = this.settings.models;
    this.capacity = this.settings.capacity;
  }

  async start(job: EngineJob): Promise<EngineOperation> {
    const request = await withUpstreamMediaUrls(job, this.settings.mediaUrl);
    const { upstreamTaskId, warnings } = await this.protocol.create(job, request);
    const operation: UpstreamOperation = {
      engine: this.name,
      upstreamTaskId,
      acceptedAt: this.settings.clock(),
      expectedRunMs: expectedRunMs(job.request),
      warnings,
    };
    return { ...operation };
  }

  async status(operation: EngineOperation, context: StatusContext): Promise<EngineStatus> {
    const saved = readUpstreamOperation(operation, this.name);
    if (saved === undefined) return { state: 'lost' };
    const outcome = await this.protocol.poll(saved.upstreamTaskId);
    switch (outcome.state) {
      case 'queued':
      case 'running':
      case 'unreachable':
        return this.running(saved, outcome);
      case 'failed':
        this.progressFloor.forget(saved.upstreamTaskId);
        return { state: 'failed', error: outcome.error };
      case 'succeeded':
        this.progressFloor.forget(saved.upstreamTaskId);
        return this.succeeded(saved, context, outcome.videoUrls, outcome.extra);
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

  private running(saved: UpstreamOperation, outcome: Extract<PollOutcome, { state: 'queued' | 'running' | 'unreachable' }>): EngineStatus {
    const ageMs = this.settings.clock() - saved.acceptedAt;
    const estimate = estimateProgress(outcome.state === 'queued' ? 'queued' : 'running', ageMs, saved.expectedRunMs);
    // After a check without an answer, only the estimate (and the floor of what was reported) is left.
    const told: { progressPercent?: number; etaSeconds?: number } = outcome.state === 'unreachable' ? {} : outcome;
    const progressPercent = this.progressFloor.raise(saved.upstreamTaskId, clampPercent(told.progressPercent ?? estimate.progressPercent));
    return {
      state: 'running',
      progressPercent,
      etaSeconds: Math.max(0, Math.round(told.etaSeconds ?? etaFromProgress(ageMs, told.progressPercent) ?? estimate.etaSeconds)),
      nextCheckMs: nextCheckDelayMs(
        { ageMs, retryAfterMs: outcome.retryAfterMs, lastCheckFailed: outcome.state === 'unreachable' },
        this.settings.poll,
      ),
    };
  }

  private async succeeded(
    saved: UpstreamOperation,
    context: StatusContext,
    videoUrls: string[],
    extra: Record<string, unknown>,
  ): Promise<EngineStatus> {
    try {
      const videos = await mirrorResults(this.name, videoUrls, context.workDir, (url, file) =>
        this.settings.downloadResult(url, file, { signal: context.signal, headers: this.protocol.credentialsFor(url) }),
      );
      return { state: 'succeeded', videos, extra: { ...extra, upstream_task_id: saved.upstreamTaskId, warnings: saved.warnings } };
    } catch (error) {
      if (error instanceof ApiError) return { state: 'failed', error };
      throw error;
    }
  }
}

/**
 * The time left at the pace so far, for an upstream that reports its progress but no ETA (a GPU
 * server): undefined before it reports any.
 */
function etaFromProgress(ageMs: number, percent: number | undefined): number | undefined {
  if (percent === undefined || percent <= 0 || percent >= 100) return undefined;
  return ((Math.max(0, ageMs) / 1000) * (100 - percent)) / percent;
}

/** Below 100 while running: 100 means the video is there. */
function clampPercent(percent: number): number {
  return Math.min(99, Math.max(0, Math.floor(percent)));
}
