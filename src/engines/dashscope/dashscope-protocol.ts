import { errors } from '../../spec/api-error.js';
import type { ModelRequest } from '../../models/model.js';
import type { EngineJob } from '../../spec/engine.js';
import { acceptedTaskId, checkTask, isSuccess, sendCreate, sendQuietly } from '../upstream/upstream-calls.js';
import type { UpstreamConnection } from '../upstream/upstream-engine-options.js';
import { UpstreamHttp, type UpstreamResponse } from '../upstream/upstream-http.js';
import type { Accepted, PollOutcome, UpstreamProtocol } from '../upstream/upstream-protocol.js';
import { createRejection, describeDashScopeError, taskFailure } from './dashscope-errors.js';
import { translateRequest } from './translate-request.js';

/**
 * Alibaba Cloud Model Studio's asynchronous video synthesis ("DashScope"): a create call with
 * `X-DashScope-Async: enable` answers a task id; `GET /api/v1/tasks/{id}` reports
 * PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED or UNKNOWN.
 */

const createPath = '/api/v1/services/aigc/video-generation/video-synthesis';

function taskPath(upstreamTaskId: string): string {
  return `/api/v1/tasks/${encodeURIComponent(upstreamTaskId)}`;
}

export class DashScopeProtocol implements UpstreamProtocol {
  private readonly http: UpstreamHttp;

  constructor(connection: UpstreamConnection) {
    this.http = new UpstreamHttp({ ...connection, describeError: describeDashScopeError });
  }

  async create(job: EngineJob, request: ModelRequest): Promise<Accepted> {
    const { body, warnings } = translateRequest(job.model, request, job.seed);
    const response = await sendCreate(this.http, createPath, body, { 'x-dashscope-async': 'enable' });
    if (!isSuccess(response)) throw createRejection(this.http, response);
    return { upstreamTaskId: acceptedTaskId(this.http, response, outputOf(response.body).task_id), warnings };
  }

  async poll(upstreamTaskId: string): Promise<PollOutcome> {
    return checkTask(this.http, taskPath(upstreamTaskId), upstreamTaskId, (response) => this.readTask(upstreamTaskId, response));
  }

  async cancel(upstreamTaskId: string): Promise<void> {
    // DashScope cancels only tasks still PENDING; for any other the call fails, which is fine.
    await sendQuietly(this.http, 'POST', `${taskPath(upstreamTaskId)}/cancel`);
  }

  credentialsFor(url: string): Record<string, string> {
    return this.http.credentialsFor(url);
  }

  private readTask(upstreamTaskId: string, response: UpstreamResponse): PollOutcome {
    const engine = this.http.engine;
    const output = outputOf(response.body);
    const lost = (why: string) => errors.taskFailed(why, { engine, upstream_task_id: upstreamTaskId });
    switch (output.task_status) {
      case 'PENDING':
        return { state: 'queued', retryAfterMs: response.retryAfterMs };
      case 'RUNNING':
        return { state: 'running', retryAfterMs: response.retryAfterMs };
      case 'SUCCEEDED':
        if (typeof output.video_url !== 'string' || output.video_url === '') {
          return { state: 'failed', error: lost(`the ${engine} upstream reported task ${upstreamTaskId} done without a video URL`) };
        }
        return { state: 'succeeded', videoUrls: [output.video_url], extra: resultExtra(output, response.body) };
      case 'FAILED': {
        const { code = '', message = '' } = this.http.errorOf(output);
        return { state: 'failed', error: taskFailure(engine, code, message) };
      }
      case 'CANCELED':
        return { state: 'failed', error: lost(`the task was cancelled at the ${engine} upstream`) };
      case 'UNKNOWN':
        return {
          state: 'failed',
          error: lost(
            `the ${engine} upstream has lost task ${upstreamTaskId} (it forgets tasks after 24 hours); ` +
              'it is not sent again, since it may have been billed',
          ),
        };
      default:
        return { state: 'unreachable', why: `the ${engine} upstream answered an unknown task status ${JSON.stringify(output.task_status)}` };
    }
  }
}

function outputOf(body: unknown): Record<string, unknown> {
  const output = (body as { output?: unknown } | undefined)?.output;
  return typeof output === 'object' && output !== null ? (output as Record<string, unknown>) : {};
}

/**
 * What DashScope tells of a finished task: its usage (billed seconds, tier, ratio, video count)
 * and, when the prompt was extended, the prompt the model actually used.
 */
function resultExtra(output: Record<string, unknown>, body: unknown): Record<string, unknown> {
  const usage = (body as { usage?: unknown } | undefined)?.usage;
  return {
    usage: typeof usage === 'object' && usage !== null ? scalarEntries(usage as Record<string, unknown>) : {},
    ...(typeof output.actual_prompt === 'string' ? { actual_prompt: output.actual_prompt } : {}),
  };
}

/** Numbers, strings and booleans only: extra is shown to clients and must stay small and flat. */
function scalarEntries(object: Record<string, unknown>): Record<string, string | number | boolean> {
  return Object.fromEntries(
    Object.entries(object).filter((entry): entry is [string, string | number | boolean] => ['string', 'number', 'boolean'].includes(typeof entry[1])),
  );
}
