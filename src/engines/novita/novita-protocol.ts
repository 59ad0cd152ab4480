import { errors } from '../../spec/api-error.js';
import type { ModelRequest } from '../../models/model.js';
import type { EngineJob } from '../../spec/engine.js';
import { acceptedTaskId, checkTask, isSuccess, sendCreate } from '../upstream/upstream-calls.js';
import type { UpstreamConnection } from '../upstream/upstream-engine-options.js';
import { UpstreamHttp, type UpstreamResponse } from '../upstream/upstream-http.js';
import type { Accepted, PollOutcome, UpstreamProtocol } from '../upstream/upstream-protocol.js';
import { createRejection, describeNovitaError, taskFailure } from './novita-errors.js';

/**
 * A provider that serves this very API (`POST /v3/async/{model}`, `GET /v3/async/task-result`):
 * the request is forwarded as it is, so nothing needs translating and nothing is lost.
 */
export class NovitaProtocol implements UpstreamProtocol {
  private readonly http: UpstreamHttp;

  constructor(connection: UpstreamConnection) {
    this.http = new UpstreamHttp({ ...connection, describeError: describeNovitaError });
  }

  async create(job: EngineJob, request: ModelRequest): Promise<Accepted> {
    const response = await sendCreate(this.http, `/v3/async/${encodeURIComponent(job.model)}`, forwardedBody(request, job.seed));
    if (!isSuccess(response)) throw createRejection(this.http, response);
    // The same API on both sides: every field is sent as it is, so nothing is lost.
    return { upstreamTaskId: acceptedTaskId(this.http, response, (response.body as { task_id?: unknown } | undefined)?.task_id), warnings: [] };
  }

  async poll(upstreamTaskId: string): Promise<PollOutcome> {
    const path = `/v3/async/task-result?task_id=${encodeURIComponent(upstreamTaskId)}`;
    return checkTask(this.http, path, upstreamTaskId, (response) => this.readResult(upstreamTaskId, response));
  }

  async cancel(): Promise<void> {
    // The API has no way to cancel a task: it runs to its end at the upstream.
  }

  credentialsFor(url: string): Record<string, string> {
    return this.http.credentialsFor(url);
  }

  private readResult(upstreamTaskId: string, response: UpstreamResponse): PollOutcome {
    const result = (typeof response.body === 'object' && response.body !== null ? response.body : {}) as Record<string, unknown>;
    const task = (result.task ?? {}) as Record<string, unknown>;
    const figures = {
      ...(typeof task.progress_percent === 'number' ? { progressPercent: task.progress_percent } : {}),
      ...(typeof task.eta === 'number' ? { etaSeconds: task.eta } : {}),
      retryAfterMs: response.retryAfterMs,
    };
    switch (task.status) {
      case 'TASK_STATUS_QUEUED':
        return { state: 'queued', ...figures };
      case 'TASK_STATUS_PROCESSING':
        return { state: 'running', ...figures };
      case 'TASK_STATUS_SUCCEED': {
        const videoUrls = videoUrlsOf(result);
        if (videoUrls.length === 0) {
          return {
            state: 'failed',
            error: errors.taskFailed(`the ${this.http.engine} upstream reported task ${upstreamTaskId} done without a video`, {
              engine: this.http.engine,
              upstream_task_id: upstreamTaskId,
            }),
          };
        }
        return { state: 'succeeded', videoUrls, extra: { usage: usageOf(result, videoUrls.length) } };
      }
      case 'TASK_STATUS_FAILED':
        return { state: 'failed', error: taskFailure(this.http, upstreamTaskId, result) };
      default:
        return { state: 'unreachable', why: `the ${this.http.engine} upstream answered an unknown task status ${JSON.stringify(task.status)}` };
    }
  }
}

/**
 * The request as the upstream gets it: the job's seed, so that both sides report the same one,
 * and without `extra`, whose options (a webhook …) are this server's business with its client.
 */
export function forwardedBody(request: ModelRequest, seed: number): ModelRequest {
  const { extra: _serverOptions, ...modelFields } = request;
  return { ...modelFields, seed };
}

function videoUrlsOf(result: Record<string, unknown>): string[] {
  const videos = Array.isArray(result.videos) ? (result.videos as unknown[]) : [];
  return videos
    .map((video) => (video as { video_url?: unknown } | null)?.video_url)
    .filter((url): url is string => typeof url === 'string' && url !== '');
}

/**
 * The API's Task Result publishes no usage; a provider that adds `extra.usage` has its figures
 * kept. The count of videos is always known.
 */
function usageOf(result: Record<string, unknown>, videoCount: number): Record<string, unknown> {
  const usage = ((result.extra ?? {}) as Record<string, unknown>).usage;
  const reported = typeof usage === 'object' && usage !== null && !Array.isArray(usage) ? (usage as Record<string, unknown>) : {};
  return { ...reported, video_count: videoCount };
}
