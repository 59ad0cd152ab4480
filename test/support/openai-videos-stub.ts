import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startStubServer, type RecordedRequest, type StubAnswer, type StubServer } from './stub-api-server.js';
import { videoAnswer } from './upstream-stub-tasks.js';

/**
 * A local stand-in for a `/v1/videos` server (vLLM-Omni, SGLang Diffusion), speaking the
 * documented protocol: `POST /v1/videos` (multipart: prompt, width, height, num_frames, fps,
 * seed, negative_prompt, num_inference_steps, input_reference) answers `{id, status: "queued"}`;
 * `GET /v1/videos/{id}` reports `queued`, `in_progress` with `progress`, then `completed` or
 * `failed` with `error`; `GET /v1/videos/{id}/content` serves the MP4; `DELETE /v1/videos/{id}`
 * deletes the job. Requests without the stub's key get 401, as `vllm serve --api-key` answers.
 */

export interface VideoJobScript {
  /** Checks answered `queued` first. Default 1. */
  queuedPolls?: number;
  /** `progress` of the `in_progress` checks that follow. Default [30, 70]. */
  progress?: number[];
  ending?: { status: 'completed'; content?: StubAnswer } | { status: 'failed'; error: { code: string; message: string } };
  /** Answers of the first checks, before the rest (a 503, a reset …). */
  troubledPolls?: StubAnswer[];
}

export interface RecordedCreate {
  fields: Record<string, string>;
  /** `input_reference`, when one was sent. */
  file?: { name: string; type: string; bytes: Buffer };
  headers: RecordedRequest['headers'];
  /** The id it was given (none when the create was refused). */
  id?: string;
}

export interface OpenAiVideosStub {
  url: string;
  /** The base URL an engine is given (`…/v1`). */
  baseUrl: string;
  apiKey: string;
  server: StubServer;
  creates: RecordedCreate[];
  answerNextCreates(...answers: (StubAnswer | { delayMs: number })[]): void;
  scriptNextJobs(...scripts: VideoJobScript[]): void;
  polls(id: string): RecordedRequest[];
  deletes(id: string): RecordedRequest[];
}

export async function startOpenAiVideosStub({
  video,
  apiKey = 'sk-gpu-test-key',
  defaultScript = {},
}: {
  video: Buffer;
  apiKey?: string;
  defaultScript?: VideoJobScript;
}): Promise<OpenAiVideosStub> {
  const server = await startStubServer();
  const creates: RecordedCreate[] = [];
  const createAnswers: (StubAnswer | { delayMs: number })[] = [];
  const scripts: VideoJobScript[] = [];
  const unauthorized: StubAnswer = { status: 401, json: { error: { message: 'Unauthorized', type: 'invalid_request_error', code: 401 } } };
  const keyed = (handler: (request: RecordedRequest) => StubAnswer | Promise<StubAnswer>) => (request: RecordedRequest) =>
    request.headers.authorization === `Bearer ${apiKey}` ? handler(request) : unauthorized;

  server.script(
    'POST /v1/videos',
    keyed(async (request) => {
      const form = await new Response(new Uint8Array(request.body), { headers: { 'content-type': String(request.headers['content-type']) } }).formData();
      const record: RecordedCreate = { fields: {}, headers: request.headers };
      for (const [name, value] of form.entries()) {
        if (typeof value === 'string') record.fields[name] = value;
        else record.file = { name: value.name, type: value.type, bytes: Buffer.from(await value.arrayBuffer()) };
      }
      creates.push(record);
      const scripted = createAnswers.shift();
      if (scripted !== undefined && !('delayMs' in scripted)) return scripted;
      if (scripted !== undefined) await sleep(scripted.delayMs);
      const id = `video_gen_${randomUUID().replace(/-/g, '')}`;
      record.id = id;
      accept(id, scripts.shift() ?? defaultScript, record.fields);
      return { json: job(id, record.fields, 'queued', 0) };
    }),
  );

  function accept(id: string, script: VideoJobScript, fields: Record<string, string>): void {
    const queued = script.queuedPolls ?? 1;
    const progress = script.progress ?? [30, 70];
    const ending = script.ending ?? { status: 'completed' };
    const troubles = [...(script.troubledPolls ?? [])];
    let checks = 0;
    server.script(
      `GET /v1/videos/${id}`,
      keyed(() => {
        const trouble = troubles.shift();
        if (trouble) return trouble;
        checks++;
        if (checks <= queued) return { json: job(id, fields, 'queued', 0) };
        if (checks <= queued + progress.length) return { json: job(id, fields, 'in_progress', progress[checks - queued - 1]) };
        if (ending.status === 'failed') return { json: { ...job(id, fields, 'failed', 0), error: ending.error } };
        return { json: { ...job(id, fields, 'completed', 100), completed_at: Math.floor(Date.now() / 1000), inference_time_s: 42.5 } };
      }),
    );
    server.script(`GET /v1/videos/${id}/content`, keyed(() => (ending.status === 'completed' && ending.content) || videoAnswer(video)));
    server.script(`DELETE /v1/videos/${id}`, keyed(() => ({ json: { id, object: 'video.deleted', deleted: true } })));
  }

  return {
    url: server.url,
    baseUrl: `${server.url}/v1`,
    apiKey,
    server,
    creates,
    answerNextCreates: (...answers) => void createAnswers.push(...answers),
    scriptNextJobs: (...next) => void scripts.push(...next),
    polls: (id) => server.requestsTo(`GET /v1/videos/${id}`),
    deletes: (id) => server.requestsTo(`DELETE /v1/videos/${id}`),
  };
}

/** A job record as vLLM-Omni answers it. */
function job(id: string, fields: Record<string, string>, status: string, progress: number) {
  return {
    id,
    object: 'video',
    model: fields.model ?? 'Wan-AI/Wan2.2-T2V-A14B-Diffusers',
    prompt: fields.prompt ?? '',
    status,
    progress,
    size: `${fields.width}x${fields.height}`,
    seconds: String(Math.round(Number(fields.num_frames) / Number(fields.fps || 16))),
    quality: 'default',
    created_at: Math.floor(Date.now() / 1000),
    completed_at: null,
    error: null,
    media_type: 'video/mp4',
  };
}
