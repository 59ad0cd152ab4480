import type { ApiErrorBody } from '../../src/spec/api-error.js';
import { startStubServer, taskResult, type RecordedRequest, type StubAnswer, type StubHandler } from './stub-api-server.js';
import { scriptedChecks, serveUpstreamTasks, videoAnswer, type UpstreamStub, type UpstreamStubOptions, type UpstreamTaskScript } from './upstream-stub-tasks.js';

/**
 * A local stand-in for a provider of this same API (novita.ai's protocol): `POST
 * /v3/async/{model}` answers `{task_id}`, `GET /v3/async/task-result?task_id=…` reports
 * QUEUED, PROCESSING, then how the task's script ends; finished videos are served by the stub
 * itself. Every request is recorded; a request with another key than the stub's gets 403
 * INVALID_API_KEY.
 */

export type NovitaEnding =
  | { status: 'TASK_STATUS_SUCCEED'; videoCount?: number; usage?: Record<string, unknown> }
  | { status: 'TASK_STATUS_FAILED'; reason: string; error?: ApiErrorBody };

export interface NovitaTaskScript extends UpstreamTaskScript {
  /** Checks answered QUEUED, then PROCESSING, before the ending. Default 1 and 2. */
  queuedPolls?: number;
  processingPolls?: number;
  ending?: NovitaEnding;
}

export interface NovitaStub extends UpstreamStub<NovitaTaskScript> {
  polls(taskId: string): RecordedRequest[];
  videoUrl(taskId: string, index: number): string;
}

const models = ['wan2.7-t2v', 'wan2.7-i2v', 'wan2.7-r2v', 'wan2.7-videoedit'];
const taskResultRoute = 'GET /v3/async/task-result';

/** An error answer of the API. */
export function novitaError(code: number, reason: string, message: string, headers: Record<string, string> = {}, metadata = {}): StubAnswer {
  return { status: code, headers, json: { code, reason, message, metadata } };
}

export async function startNovitaStub({
  video,
  apiKey = 'sk-novita-test-key',
  defaultScript = {},
}: UpstreamStubOptions<NovitaTaskScript>): Promise<NovitaStub> {
  const server = await startStubServer();
  // Every task's checks share one route, told apart by the task_id of the query.
  const tasks = new Map<string, StubHandler>();
  const videoUrl = (taskId: string, index: number) => `${server.url}/results/${taskId}-${index}.mp4`;
  const taskIdOf = (request: RecordedRequest) => new URL(request.url, server.url).searchParams.get('task_id') ?? '';

  const { stub, keyChecked } = serveUpstreamTasks<NovitaTaskScript>(server, {
    apiKey,
    badKey: novitaError(403, 'INVALID_API_KEY', 'the API key is not valid or has been revoked'),
    createRoutes: models.map((model) => `POST /v3/async/${model}`),
    defaultScript,
    accept: (taskId, script) => {
      const queuedPolls = script.queuedPolls ?? 1;
      const processingPolls = script.processingPolls ?? 2;
      const ending: NovitaEnding = script.ending ?? { status: 'TASK_STATUS_SUCCEED' };
      const videoCount = ending.status === 'TASK_STATUS_SUCCEED' ? (ending.videoCount ?? 1) : 0;
      for (let index = 0; index < videoCount; index++) server.script(`GET /results/${taskId}-${index}.mp4`, videoAnswer(video));
      tasks.set(
        taskId,
        scriptedChecks(script, (check) => {
          if (check <= queuedPolls) return { json: taskResult(taskId, 'TASK_STATUS_QUEUED', { progress: 0, eta: 60 }) };
          if (check <= queuedPolls + processingPolls) {
            const progress = Math.round((100 * (check - queuedPolls)) / (processingPolls + 1));
            return { json: taskResult(taskId, 'TASK_STATUS_PROCESSING', { progress, eta: 10 * (queuedPolls + processingPolls - check + 1) }) };
          }
          if (ending.status === 'TASK_STATUS_FAILED') {
            return { json: taskResult(taskId, ending.status, { progress: 100, reason: ending.reason, error: ending.error }) };
          }
          const body = taskResult(taskId, ending.status, { progress: 100, videoUrl: videoUrl(taskId, 0) });
          body.videos = Array.from({ length: videoCount }, (_, index) => ({ video_url: videoUrl(taskId, index), video_url_ttl: '3600', video_type: 'mp4' }));
          return { json: { ...body, extra: { ...body.extra, ...(ending.usage ? { usage: ending.usage } : {}) } } };
        }),
      );
      return { json: { task_id: taskId } };
    },
  });
  server.script(
    taskResultRoute,
    keyChecked((request) => {
      const taskId = taskIdOf(request);
      const task = tasks.get(taskId);
      return task ? task(request) : novitaError(404, 'TASK_NOT_FOUND', `task "${taskId}" does not exist`, {}, { task_id: taskId });
    }),
  );

  return {
    ...stub,
    polls: (taskId) => server.requestsTo(taskResultRoute).filter((request) => taskIdOf(request) === taskId),
    videoUrl,
  };
}
