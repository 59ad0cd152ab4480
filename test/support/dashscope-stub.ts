import { randomUUID } from 'node:crypto';
import { startStubServer, type RecordedRequest, type StubAnswer } from './stub-api-server.js';
import { scriptedChecks, serveUpstreamTasks, videoAnswer, type UpstreamStub, type UpstreamStubOptions, type UpstreamTaskScript } from './upstream-stub-tasks.js';

/**
 * A local stand-in for DashScope's asynchronous video synthesis, speaking its documented
 * protocol: `POST /api/v1/services/aigc/video-generation/video-synthesis` (with
 * `X-DashScope-Async: enable`) answers a task id; `GET /api/v1/tasks/{id}` reports PENDING,
 * RUNNING, then how the task's script ends; the finished video is served by the stub itself.
 * Every request is recorded; a request with another key than the stub's gets 401 InvalidApiKey.
 */

export const dashScopeCreatePath = '/api/v1/services/aigc/video-generation/video-synthesis';

export type DashScopeEnding =
  | { status: 'SUCCEEDED'; usage?: Record<string, unknown>; actualPrompt?: string }
  | { status: 'FAILED'; code: string; message: string }
  | { status: 'CANCELED' }
  | { status: 'UNKNOWN' };

export interface DashScopeTaskScript extends UpstreamTaskScript {
  /** Checks answered PENDING, then RUNNING, before the ending. Default 1 and 1. */
  pendingPolls?: number;
  runningPolls?: number;
  ending?: DashScopeEnding;
  /** The result's answer when the video is downloaded; the video by default. */
  videoAnswer?: StubAnswer;
}

export interface DashScopeStub extends UpstreamStub<DashScopeTaskScript> {
  polls(taskId: string): RecordedRequest[];
  cancels(taskId: string): RecordedRequest[];
  /** The URL where the stub serves a task's video. */
  videoUrl(taskId: string): string;
}

/** A DashScope error answer. */
export function dashScopeError(status: number, code: string, message: string, headers: Record<string, string> = {}): StubAnswer {
  return { status, headers, json: { code, message, request_id: randomUUID() } };
}

export async function startDashScopeStub({
  video,
  apiKey = 'sk-dashscope-test-key',
  defaultScript = {},
}: UpstreamStubOptions<DashScopeTaskScript>): Promise<DashScopeStub> {
  const server = await startStubServer();
  const videoUrl = (taskId: string) => `${server.url}/results/${taskId}.mp4`;

  const { stub, keyChecked } = serveUpstreamTasks<DashScopeTaskScript>(server, {
    apiKey,
    badKey: dashScopeError(401, 'InvalidApiKey', 'Invalid API-key provided.'),
    createRoutes: [`POST ${dashScopeCreatePath}`],
    defaultScript,
    accept: (taskId, script) => {
      const pendingPolls = script.pendingPolls ?? 1;
      const runningPolls = script.runningPolls ?? 1;
      const ending: DashScopeEnding = script.ending ?? { status: 'SUCCEEDED' };
      const statusAt = (check: number) => (check <= pendingPolls ? 'PENDING' : check <= pendingPolls + runningPolls ? 'RUNNING' : ending.status);
      server.script(
        `GET /api/v1/tasks/${taskId}`,
        keyChecked(scriptedChecks(script, (check) => ({ json: taskAnswer(taskId, statusAt(check), ending, videoUrl(taskId)) }))),
      );
      server.script(`POST /api/v1/tasks/${taskId}/cancel`, () =>
        dashScopeError(400, 'UnsupportedOperation', 'Failed to cancel the task, please confirm if the task is in PENDING status.'),
      );
      server.script(`GET /results/${taskId}.mp4`, script.videoAnswer ?? videoAnswer(video));
      return { json: { request_id: randomUUID(), output: { task_id: taskId, task_status: 'PENDING' } } };
    },
  });

  return {
    ...stub,
    polls: (taskId) => server.requestsTo(`GET /api/v1/tasks/${taskId}`),
    cancels: (taskId) => server.requestsTo(`POST /api/v1/tasks/${taskId}/cancel`),
    videoUrl,
  };
}

function taskAnswer(taskId: string, status: string, ending: DashScopeEnding, videoUrl: string) {
  const times = { submit_time: '2026-05-01 10:00:00.000', scheduled_time: '2026-05-01 10:00:01.000' };
  const output: Record<string, unknown> = { task_id: taskId, task_status: status, ...times };
  let usage: Record<string, unknown> | undefined;
  if (status === 'SUCCEEDED' && ending.status === 'SUCCEEDED') {
    Object.assign(output, { end_time: '2026-05-01 10:02:00.000', video_url: videoUrl, orig_prompt: 'the prompt' });
    if (ending.actualPrompt !== undefined) output.actual_prompt = ending.actualPrompt;
    usage = ending.usage ?? { duration: 5, input_video_duration: 0, output_video_duration: 5, video_count: 1, SR: 720, ratio: '16:9' };
  }
  if (status === 'FAILED' && ending.status === 'FAILED') Object.assign(output, { code: ending.code, message: ending.message });
  return { request_id: randomUUID(), output, ...(usage ? { usage } : {}) };
}
