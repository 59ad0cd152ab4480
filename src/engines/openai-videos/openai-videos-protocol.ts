import type { FfmpegToolchain } from '../../media/ffmpeg-binaries.js';
import type { ModelRequest } from '../../models/model.js';
import { errors } from '../../spec/api-error.js';
import { EngineUnavailable, type EngineJob } from '../../spec/engine.js';
import { inputShapes } from '../open-wan/input-shapes.js';
import { inputFile } from '../open-wan/input-file.js';
import { acceptedTaskId, checkTask, isSuccess, sendCreate, sendQuietly } from '../upstream/upstream-calls.js';
import type { UpstreamConnection } from '../upstream/upstream-engine-options.js';
import { UpstreamHttp, type UpstreamResponse } from '../upstream/upstream-http.js';
import type { Accepted, PollOutcome, UpstreamProtocol } from '../upstream/upstream-protocol.js';
import { createRejection, describeOpenAiVideosError } from './openai-videos-errors.js';
import { translateRequest, type OpenAiVideosTarget } from './translate-request.js';

/**
 * The asynchronous video jobs of vLLM-Omni and SGLang Diffusion (OpenAI's Videos API shape):
 * `POST {base}/videos` (multipart) answers `{id, status}`; `GET {base}/videos/{id}` reports
 * `queued`, `in_progress`, `completed` or `failed` with `progress` 0–100 and `error`; the video
 * is at `GET {base}/videos/{id}/content`; `DELETE {base}/videos/{id}` stops and removes the job.
 * `base` is the server's `/v1` URL.
 */
export class OpenAiVideosProtocol implements UpstreamProtocol {
  private readonly http: UpstreamHttp;

  constructor(
    connection: UpstreamConnection,
    private readonly target: OpenAiVideosTarget,
    private readonly toolchain: FfmpegToolchain,
  ) {
    this.http = new UpstreamHttp({ ...connection, describeError: describeOpenAiVideosError });
  }

  async create(job: EngineJob, _request: ModelRequest): Promise<Accepted> {
    // The files themselves are uploaded, so the URLs (and whether the server could reach them) do not matter.
    if (job.model === 'wan2.7-i2v' && typeof job.request.first_clip_url === 'string') {
      throw new EngineUnavailable(
        this.http.engine,
        `${this.http.engine} cannot continue a clip (first_clip_url): the /v1/videos Wan models start from a first frame only`,
      );
    }
    const form = translateRequest(this.target, job.model, job.request, job.seed, await inputShapes(this.toolchain, job));
    const body = new FormData();
    for (const [name, value] of Object.entries(form.fields)) body.set(name, value);
    if (form.inputReference !== undefined) {
      const file = await inputFile(job.media[form.inputReference], form.inputReference);
      body.set('input_reference', file.blob, file.fileName);
    }
    const response = await sendCreate(this.http, '/videos', body);
    if (!isSuccess(response)) throw createRejection(this.http, response);
    return { upstreamTaskId: acceptedTaskId(this.http, response, bodyOf(response).id), warnings: form.warnings };
  }

  async poll(videoId: string): Promise<PollOutcome> {
    return checkTask(this.http, videoPath(videoId), videoId, (response) => this.readJob(videoId, response));
  }

  async cancel(videoId: string): Promise<void> {
    // DELETE aborts the generation (vLLM-Omni) or forgets the job (SGLang); either way it frees the server.
    await sendQuietly(this.http, 'DELETE', videoPath(videoId));
  }

  credentialsFor(url: string): Record<string, string> {
    return this.http.credentialsFor(url);
  }

  private readJob(videoId: string, response: UpstreamResponse): PollOutcome {
    const engine = this.http.engine;
    const job = bodyOf(response);
    const progressPercent = typeof job.progress === 'number' ? job.progress : undefined;
    switch (job.status) {
      case 'queued':
        return { state: 'queued', retryAfterMs: response.retryAfterMs };
      case 'in_progress':
        return { state: 'running', ...(progressPercent === undefined ? {} : { progressPercent }), retryAfterMs: response.retryAfterMs };
      case 'completed':
        return { state: 'succeeded', videoUrls: [this.contentUrl(videoId, job.url)], extra: resultExtra(job) };
      case 'failed': {
        const { code, message } = this.http.errorOf({ error: job.error });
        return {
          state: 'failed',
          error: errors.taskFailed(`the ${engine} server failed the video${message ? `: ${message}` : ''}`, {
            engine,
            upstream_task_id: videoId,
            ...(code === undefined ? {} : { upstream_code: code }),
          }),
        };
      }
      default:
        return { state: 'unreachable', why: `the ${engine} server answered an unknown job status ${JSON.stringify(job.status)}` };
    }
  }

  /**
   * Where the finished video is: the job's own content endpoint, or the URL of the object
   * storage an SGLang server uploaded it to (its content endpoint then refuses to serve it).
   */
  private contentUrl(videoId: string, uploadedTo: unknown): string {
    if (typeof uploadedTo === 'string' && /^https?:\/\//.test(uploadedTo)) return uploadedTo;
    return `${this.http.baseUrl}${videoPath(videoId)}/content`;
  }
}

function videoPath(videoId: string): string {
  return `/videos/${encodeURIComponent(videoId)}`;
}

function bodyOf(response: UpstreamResponse): Record<string, unknown> {
  return typeof response.body === 'object' && response.body !== null ? (response.body as Record<string, unknown>) : {};
}

/** What the server tells of a finished job: its run time, when it says. */
function resultExtra(job: Record<string, unknown>): Record<string, unknown> {
  return typeof job.inference_time_s === 'number' ? { usage: { inference_seconds: job.inference_time_s } } : { usage: {} };
}
