import { randomUUID } from 'node:crypto';
import type { FfmpegToolchain } from '../../media/ffmpeg-binaries.js';
import type { ModelId } from '../../models/model.js';
import { ApiError, errors } from '../../spec/api-error.js';
import { EngineUnavailable, type Engine, type EngineJob, type EngineOperation, type EngineStatus, type StatusContext } from '../../spec/engine.js';
import { inputFile } from '../open-wan/input-file.js';
import { inputShapes } from '../open-wan/input-shapes.js';
import type { WanProfile } from '../open-wan/wan-profile.js';
import { defaultInitialPollMs, defaultPollJitter, nextCheckDelayMs, type PollIntervalOptions } from '../upstream/poll-interval.js';
import { sharedPollScheduler, type PollScheduler } from '../upstream/poll-scheduler.js';
import { estimateProgress, expectedRunMs } from '../upstream/progress-estimate.js';
import { ProgressFloor } from '../upstream/progress-floor.js';
import { mirrorResults, type ResultDownloader } from '../upstream/result-mirror.js';
import { isSuccess, misconfigured, sendCreate, sendQuietly } from '../upstream/upstream-calls.js';
import { UpstreamConnectionError, UpstreamHttp } from '../upstream/upstream-http.js';
import { readUpstreamOperation, type UpstreamOperation } from '../upstream/upstream-operation.js';
import { describeComfyUiError } from './comfyui-errors.js';
import { nodeFailureError, readHistory, type OutputFile } from './comfyui-history.js';
import { ComfyUiMonitor } from './comfyui-monitor.js';
import { bindWorkflow, type Placeholder, type Variant, type Workflow } from './comfyui-workflow.js';
import { planPrompt } from './plan-prompt.js';
import type { UpstreamObserver } from '../../spec/upstream-observer.js';

export interface ComfyUiEngineOptions {
  name: string;
  /** The ComfyUI host, e.g. `http://gpu2:8188`. */
  baseUrl: string;
  /** Sent as a Bearer token, for a proxy in front of ComfyUI (ComfyUI itself has no keys). */
  apiKey?: string;
  /** Prompts handed to the host at once. */
  capacity: number;
  models: readonly ModelId[];
  /** The checked workflow of each variant it runs. */
  workflows: Partial<Record<Variant, Workflow>>;
  /** Frame rate, sizes and longest clip of the Wan checkpoints its workflows load. */
  profile: WanProfile;
  toolchain: FfmpegToolchain;
  /** Downloads a finished video (guarded by this engine's address policy, size-capped). */
  downloadResult: ResultDownloader;
  /** Longest wait for one HTTP answer. Default 30 000 ms. */
  requestTimeoutMs?: number;
  /** HTTP requests in flight to the host at once. Default 32. */
  maxConcurrentRequests?: number;
  /** Checks over HTTP of prompts not followed by events: `initialMs` 2000, `maxMs` 5000 by default. */
  poll?: Partial<PollIntervalOptions>;
  /** How long a prompt followed by events goes without a check over HTTP. Default 30 s. */
  verifyMs?: number;
  scheduler?: PollScheduler;
  clock?: () => number;
  /** Told of every HTTP request to the host (the metrics). */
  observer?: UpstreamObserver;
}

/** Longest wait for the websocket before a prompt is queued anyway (then followed over HTTP). */
const socketWaitMs = 2000;

/** How long one answer of `GET /queue` serves the checks of every prompt. */
const queueReuseMs = 1000;

/** Where uploaded inputs go, under ComfyUI's input folder. */
const uploadFolder = 'wan-api';

/** A prompt whose phase came from events, or from a check over HTTP. */
type Report =
  | { phase: 'queued' | 'running'; fraction?: number; startedAt?: number; live: boolean }
  | { phase: 'succeeded'; outputs: OutputFile[] }
  | { phase: 'failed'; error: ApiError }
  | { phase: 'unreachable'; why: string; retryAfterMs?: number };

/**
 * Carries tasks out on a ComfyUI host running the open Wan models: the task's workflow (from a
 * template, see comfyui-workflow.ts) is submitted with `POST /prompt` under a prompt id chosen
 * here, after its input files are uploaded with `POST /upload/image`; the prompt is followed
 * over the host's one websocket (comfyui-monitor.ts), verified over HTTP (`/history`, `/queue`)
 * when events may have been missed or the prompt was submitted by another process, and its
 * MP4 output is copied home through `GET /view`.
 */
export class ComfyUiEngine implements Engine {
  readonly name: string;
  readonly kind = 'comfyui';
  readonly models: readonly ModelId[];
  readonly capacity: number;
  /** The prompt runs on at the host without us; another process resumes it from the operation. */
  readonly survivesRestart = true;
  private readonly http: UpstreamHttp;
  private readonly monitor: ComfyUiMonitor;
  private readonly progressFloor = new ProgressFloor();
  private readonly poll: PollIntervalOptions;
  private readonly verifyMs: number;
  private readonly scheduler: PollScheduler;
  private readonly clock: () => number;
  private queueAnswer: { at: number; answer: ReturnType<ComfyUiEngine['get']> } | undefined;

  constructor(private readonly options: ComfyUiEngineOptions) {
    this.name = options.name;
    this.models = options.models;
    this.capacity = options.capacity;
    this.clock = options.clock ?? Date.now;
    this.scheduler = options.scheduler ?? sharedPollScheduler;
    this.poll = {
      initialMs: options.poll?.initialMs ?? defaultInitialPollMs,
      maxMs: options.poll?.maxMs ?? 5_000,
      jitter: options.poll?.jitter ?? defaultPollJitter,
    };
    this.verifyMs = options.verifyMs ?? 30_000;
    this.http = new UpstreamHttp({
      engine: options.name,
      baseUrl: options.baseUrl,
      apiKey: options.apiKey,
      timeoutMs: options.requestTimeoutMs ?? 30_000,
      maxConcurrentRequests: options.maxConcurrentRequests ?? 32,
      describeError: describeComfyUiError,
      observer: options.observer,
    });
    this.monitor = new ComfyUiMonitor({ baseUrl: options.baseUrl, apiKey: options.apiKey, scheduler: this.scheduler, clock: this.clock });
  }

  /** Prompts followed over the websocket, and events read (benchmark, tests). */
  get following(): { prompts: number; events: number; connected: boolean } {
    return { prompts: this.monitor.followed, events: this.monitor.eventCount, connected: this.monitor.connected };
  }

  async start(job: EngineJob): Promise<EngineOperation> {
    const plan = planPrompt(
      { engine: this.name, profile: this.options.profile, workflows: this.options.workflows },
      job.model,
      job.request,
      job.seed,
      job.taskId,
      await inputShapes(this.options.toolchain, job),
    );
    const values = { ...plan.values };
    for (const [placeholder, field] of Object.entries(plan.files) as [Placeholder, string][]) {
      values[placeholder] = await this.upload(job, field, placeholder);
    }
    // ComfyUI sends a prompt's events only to a socket open at the time: open it before queueing.
    await this.monitor.ready(socketWaitMs);
    const promptId = randomUUID();
    // Followed before it is queued: the host may run it, and send its first events, before it answers.
    this.monitor.follow(promptId, plan.workflow.samplers);
    try {
      await this.submit(promptId, bindWorkflow(plan.workflow, values));
    } catch (error) {
      this.monitor.forget(promptId);
      throw error;
    }
    const operation: UpstreamOperation = {
      engine: this.name,
      upstreamTaskId: promptId,
      acceptedAt: this.clock(),
      expectedRunMs: expectedRunMs(job.request),
      warnings: plan.warnings,
    };
    return { ...operation };
  }

  async status(operation: EngineOperation, context: StatusContext): Promise<EngineStatus> {
    const saved = readUpstreamOperation(operation, this.name);
    if (saved === undefined) return { state: 'lost' };
    const report = await this.report(saved.upstreamTaskId);
    switch (report.phase) {
      case 'queued':
      case 'running':
      case 'unreachable':
        return this.running(saved, report);
      case 'failed':
        this.ended(saved.upstreamTaskId);
        return { state: 'failed', error: report.error };
      case 'succeeded':
        this.ended(saved.upstreamTaskId);
        return this.succeeded(saved, context, report.outputs);
    }
  }

  async changed(operation: EngineOperation, timeoutMs: number): Promise<void> {
    const saved = readUpstreamOperation(operation, this.name);
    if (saved === undefined) return this.scheduler.sleep(timeoutMs);
    await this.monitor.changed(saved.upstreamTaskId, timeoutMs);
  }

  /** Takes the prompt off the queue, or interrupts it if it runs; never throws. */
  async cancel(operation: EngineOperation): Promise<void> {
    const saved = readUpstreamOperation(operation, this.name);
    if (saved === undefined) return;
    this.ended(saved.upstreamTaskId);
    await sendQuietly(this.http, 'POST', '/queue', { delete: [saved.upstreamTaskId] });
    // With a prompt_id, ComfyUI interrupts only that prompt, and only if it is the one running.
    await sendQuietly(this.http, 'POST', '/interrupt', { prompt_id: saved.upstreamTaskId });
  }

  async close(): Promise<void> {
    this.monitor.close();
  }

  /**
   * Uploads one input file into ComfyUI's input folder under a name of the task's own, and
   * answers the name its loader nodes take. Nothing is queued yet, so any failure leaves the
   * task free for another engine.
   */
  private async upload(job: EngineJob, field: string, placeholder: Placeholder): Promise<string> {
    const media = job.media[field];
    if (media === undefined) throw errors.taskFailed(`${field}: the input was not downloaded`, { field });
    const file = await inputFile(media, `${job.taskId}-${placeholder}`);
    const form = new FormData();
    form.set('image', file.blob, file.fileName);
    form.set('type', 'input');
    form.set('subfolder', uploadFolder);
    form.set('overwrite', 'true');
    const why = (detail: string) => new EngineUnavailable(this.name, `the ${this.name} ComfyUI host did not take the upload of ${field}: ${detail}`);
    let response;
    try {
      response = await this.http.send('POST', '/upload/image', form);
    } catch (error) {
      if (error instanceof UpstreamConnectionError) throw why(error.message);
      throw error;
    }
    if (!isSuccess(response)) throw why(this.http.describe(response));
    const { name, subfolder } = (response.body ?? {}) as { name?: unknown; subfolder?: unknown };
    if (typeof name !== 'string' || name === '') throw why('its answer names no file');
    return typeof subfolder === 'string' && subfolder !== '' ? `${subfolder}/${name}` : name;
  }

  /**
   * Queues the workflow under `promptId`. Because the id is ours, a create call whose answer was
   * lost is settled by looking for the prompt at the host: found, it was accepted.
   */
  private async submit(promptId: string, prompt: Record<string, unknown>): Promise<void> {
    let response;
    try {
      response = await sendCreate(this.http, '/prompt', { prompt, client_id: this.monitor.clientId, prompt_id: promptId });
    } catch (error) {
      if (error instanceof ApiError && error.metadata.upstream_acceptance === 'unknown') {
        if (await this.knows(promptId)) return;
      }
      throw error;
    }
    if (isSuccess(response)) return;
    // A workflow ComfyUI refuses (a missing node or model file) is the set-up's fault, not the request's.
    if (response.status === 400) throw misconfigured(this.name, `the ${this.name} ComfyUI host refused the workflow: ${this.http.describe(response)}`);
    if (response.status === 404) throw misconfigured(this.name, `${this.options.baseUrl} is no ComfyUI host (no /prompt): ${this.http.describe(response)}`);
    throw errors.taskFailed(`the ${this.name} ComfyUI host refused the prompt: ${this.http.describe(response)}`, { engine: this.name });
  }

  /** Whether the host has the prompt, queued, running or ended. */
  private async knows(promptId: string): Promise<boolean> {
    const report = await this.check(promptId, this.clock());
    if (report.phase === 'failed') return report.error.metadata.upstream_task_id === promptId && report.error.metadata.upstream_lost !== true;
    return report.phase !== 'unreachable';
  }

  /** What is known of a prompt: from its events while they are complete and recent, else from the host. */
  private async report(promptId: string): Promise<Report> {
    const now = this.clock();
    const known = this.monitor.knowledge(promptId);
    if (known !== undefined && known.complete && now - known.heardAt < this.verifyMs) {
      switch (known.phase) {
        case 'queued':
        case 'running':
          return { phase: known.phase, fraction: known.fraction, startedAt: known.startedAt, live: true };
        case 'failed':
          return { phase: 'failed', error: nodeFailureError(this.name, promptId, known.failure ?? {}) };
        case 'interrupted':
          return { phase: 'failed', error: interrupted(this.name, promptId) };
        case 'succeeded':
          // The outputs are read from the history (which ComfyUI writes just after this event).
          break;
      }
    }
    const checked = await this.check(promptId, now);
    if (known !== undefined && checked.phase === 'running') return { ...checked, fraction: known.fraction, startedAt: known.startedAt };
    return checked;
  }

  /** Asks the host: the history for a prompt that ended, else the queue. */
  private async check(promptId: string, checkedAt: number): Promise<Report> {
    const history = await this.get(`/history/${encodeURIComponent(promptId)}`);
    if ('phase' in history) return history;
    const ended = readHistory(history.body, promptId);
    if (ended.phase === 'absent') {
      let queue = await this.queue(checkedAt - queueReuseMs);
      if ('phase' in queue) return queue;
      let phase = queuePhase(queue.body, promptId);
      if (phase === undefined) {
        // Not in a shared answer from before this check: only an answer asked for now says it is gone.
        queue = await this.queue(checkedAt);
        if ('phase' in queue) return queue;
        phase = queuePhase(queue.body, promptId);
      }
      if (phase !== undefined) {
        this.monitor.verified(promptId, phase, checkedAt);
        return { phase, live: false };
      }
      // It may have left the queue between the two calls: the history has it then.
      const again = await this.get(`/history/${encodeURIComponent(promptId)}`);
      if ('phase' in again) return again;
      const late = readHistory(again.body, promptId);
      if (late.phase === 'absent') {
        return {
          phase: 'failed',
          error: errors.taskFailed(
            `the ${this.name} ComfyUI host no longer knows prompt ${promptId} (was it restarted?); the task is not sent again`,
            { engine: this.name, upstream_task_id: promptId, upstream_lost: true },
          ),
        };
      }
      return this.fromHistory(promptId, late);
    }
    return this.fromHistory(promptId, ended);
  }

  private fromHistory(promptId: string, ended: Exclude<ReturnType<typeof readHistory>, { phase: 'absent' }>): Report {
    switch (ended.phase) {
      case 'succeeded':
        return { phase: 'succeeded', outputs: ended.outputs };
      case 'failed':
        return { phase: 'failed', error: nodeFailureError(this.name, promptId, ended.failure) };
      case 'interrupted':
        return { phase: 'failed', error: interrupted(this.name, promptId) };
    }
  }

  /**
   * The host's queue: an answer asked for at `notBefore` or later, shared by every check that can
   * use it. ComfyUI lists its whole queue (each prompt with its workflow), so a request per
   * prompt checked would cost the square of the queue's length.
   */
  private queue(notBefore: number): Promise<{ body: unknown } | Extract<Report, { phase: 'unreachable' | 'failed' }>> {
    if (this.queueAnswer === undefined || this.queueAnswer.at < notBefore) {
      this.queueAnswer = { at: this.clock(), answer: this.get('/queue') };
    }
    return this.queueAnswer.answer;
  }

  /** A GET whose trouble (network, 429, 5xx) only postpones the next check; a refused key or other 4xx fails. */
  private async get(path: string): Promise<{ body: unknown } | Extract<Report, { phase: 'unreachable' | 'failed' }>> {
    let response;
    try {
      response = await this.http.send('GET', path);
    } catch (error) {
      if (error instanceof UpstreamConnectionError) return { phase: 'unreachable', why: error.message };
      throw error;
    }
    if (response.status === 429 || response.status >= 500) {
      return { phase: 'unreachable', why: `the ${this.name} ComfyUI host answered ${this.http.describe(response)}`, retryAfterMs: response.retryAfterMs };
    }
    if (!isSuccess(response)) {
      return {
        phase: 'failed',
        error: errors.taskFailed(`server configuration problem: the ${this.name} ComfyUI host answered ${this.http.describe(response)} to ${path}`, {
          engine: this.name,
        }),
      };
    }
    return { body: response.body };
  }

  private running(saved: UpstreamOperation, report: Extract<Report, { phase: 'queued' | 'running' | 'unreachable' }>): EngineStatus {
    const now = this.clock();
    const ageMs = now - saved.acceptedAt;
    const estimate = estimateProgress(report.phase === 'queued' ? 'queued' : 'running', ageMs, saved.expectedRunMs);
    let percent = estimate.progressPercent;
    let eta = estimate.etaSeconds;
    if (report.phase === 'running' && report.fraction !== undefined && report.fraction > 0) {
      // 5 % for queueing and loading, 90 % for the sampler steps, the rest for decoding and saving.
      percent = 5 + 90 * report.fraction;
      if (report.startedAt !== undefined) eta = ((now - report.startedAt) / 1000) * ((1 - report.fraction) / report.fraction);
    }
    const live = report.phase !== 'unreachable' && report.live;
    return {
      state: 'running',
      progressPercent: this.progressFloor.raise(saved.upstreamTaskId, Math.min(99, Math.floor(percent))),
      etaSeconds: Math.max(0, Math.round(eta)),
      // Events wake the worker through changed(); a check over HTTP is only the safety net then.
      nextCheckMs: live
        ? this.verifyMs
        : nextCheckDelayMs(
            { ageMs, lastCheckFailed: report.phase === 'unreachable', retryAfterMs: report.phase === 'unreachable' ? report.retryAfterMs : undefined },
            this.poll,
          ),
    };
  }

  private async succeeded(saved: UpstreamOperation, context: StatusContext, files: OutputFile[]): Promise<EngineStatus> {
    if (files.length === 0) {
      return {
        state: 'failed',
        error: errors.taskFailed(
          `the ComfyUI workflow of ${this.name} finished without an MP4 output (does it end with SaveVideo in mp4?)`,
          { engine: this.name, upstream_task_id: saved.upstreamTaskId },
        ),
      };
    }
    const urls = files.map((file) => {
      const query = new URLSearchParams({ filename: file.filename, subfolder: file.subfolder, type: file.type });
      return `${this.http.baseUrl}/view?${query}`;
    });
    try {
      const videos = await mirrorResults(this.name, urls, context.workDir, (url, file) =>
        this.options.downloadResult(url, file, { signal: context.signal, headers: this.http.credentialsFor(url) }),
      );
      return { state: 'succeeded', videos, extra: { upstream_task_id: saved.upstreamTaskId, warnings: saved.warnings } };
    } catch (error) {
      if (error instanceof ApiError) return { state: 'failed', error };
      throw error;
    }
  }

  private ended(promptId: string): void {
    this.progressFloor.forget(promptId);
    this.monitor.forget(promptId);
  }
}

/** Where the prompt is in `GET /queue` (`queue_running`, `queue_pending`: `[number, prompt_id, …]`). */
function queuePhase(body: unknown, promptId: string): 'queued' | 'running' | undefined {
  const { queue_running: running, queue_pending: pending } = (body ?? {}) as Record<string, unknown>;
  const holds = (list: unknown) => Array.isArray(list) && list.some((item) => Array.isArray(item) && item[1] === promptId);
  if (holds(running)) return 'running';
  if (holds(pending)) return 'queued';
  return undefined;
}

function interrupted(engine: string, promptId: string): ApiError {
  return errors.taskFailed(`the prompt was interrupted at the ${engine} ComfyUI host`, { engine, upstream_task_id: promptId });
}
