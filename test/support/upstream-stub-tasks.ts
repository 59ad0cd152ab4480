import { randomUUID } from 'node:crypto';
import type { RecordedRequest, StubAnswer, StubHandler, StubServer } from './stub-api-server.js';

/**
 * What the local stand-ins of upstream providers (dashscope-stub.ts, novita-stub.ts) share: the
 * API key check, answers scripted for the next create calls, scripts for the next tasks it
 * accepts, and the order in which a task's checks are answered. How a task is created, reported
 * and served is each upstream's own, in its stub.
 */

/** What every task script can ask for, whatever the upstream. */
export interface UpstreamTaskScript {
  /** Answers of the first checks, before the rest of the script (a 503, a 429 with Retry-After …). */
  troubledPolls?: StubAnswer[];
}

/** The options of every upstream's stub. */
export interface UpstreamStubOptions<Script extends UpstreamTaskScript> {
  /** Bytes of every video the stub serves. */
  video: Buffer;
  apiKey?: string;
  /** The script of accepted tasks that no `scriptNextTasks` call scripted. */
  defaultScript?: Script;
}

/** The members of every upstream's stub. */
export interface UpstreamStub<Script extends UpstreamTaskScript> {
  url: string;
  server: StubServer;
  /** The key the stub accepts; any other gets the upstream's answer to a bad key. */
  apiKey: string;
  /** Answers of the next create calls, in order; once they are used up, creates are accepted. */
  answerNextCreates(...answers: StubAnswer[]): void;
  /** Scripts of the next accepted tasks, in order; then the default script. */
  scriptNextTasks(...scripts: Script[]): void;
  /** Create calls received (to any of the create routes), with their parsed bodies. */
  creates(): (RecordedRequest & { json: Record<string, unknown> })[];
}

export interface UpstreamTasksOptions<Script extends UpstreamTaskScript> {
  apiKey: string;
  /** The upstream's answer to a request with another key. */
  badKey: StubAnswer;
  /** Routes of the create calls, `METHOD /path`. */
  createRoutes: string[];
  defaultScript: Script;
  /** Sets up a new task's routes as `script` says, and answers the create call that made it. */
  accept: (taskId: string, script: Script) => StubAnswer;
}

export interface UpstreamTasks<Script extends UpstreamTaskScript> {
  /** The stub's members that every upstream's stub has. */
  stub: UpstreamStub<Script>;
  /** `handler` behind the API key check: a request with another key gets the bad-key answer. */
  keyChecked(handler: StubHandler): StubHandler;
}

/**
 * Serves create calls: each gets the next answer scripted by `answerNextCreates`, else a new task
 * id and the next task script go to `accept`.
 */
export function serveUpstreamTasks<Script extends UpstreamTaskScript>(
  server: StubServer,
  { apiKey, badKey, createRoutes, defaultScript, accept }: UpstreamTasksOptions<Script>,
): UpstreamTasks<Script> {
  const createAnswers: StubAnswer[] = [];
  const taskScripts: Script[] = [];
  function keyChecked(handler: StubHandler): StubHandler {
    return (request) => (request.headers.authorization === `Bearer ${apiKey}` ? handler(request) : badKey);
  }

  for (const route of createRoutes) {
    server.script(route, keyChecked(() => createAnswers.shift() ?? accept(randomUUID(), taskScripts.shift() ?? defaultScript)));
  }
  const isCreate = (request: RecordedRequest) => createRoutes.includes(`${request.method} ${request.url.split('?')[0]}`);
  return {
    stub: {
      url: server.url,
      server,
      apiKey,
      answerNextCreates: (...answers) => void createAnswers.push(...answers),
      scriptNextTasks: (...scripts) => void taskScripts.push(...scripts),
      creates: () => server.requests.filter(isCreate).map((request) => ({ ...request, json: JSON.parse(request.body.toString()) })),
    },
    keyChecked,
  };
}

/**
 * The handler of one task's checks: the script's troubled answers first, then `answerCheck` of
 * the number of that check, counting from 1, so that the stub can tell the task's stage by it.
 */
export function scriptedChecks(script: UpstreamTaskScript, answerCheck: (check: number) => StubAnswer): StubHandler {
  const troubles = [...(script.troubledPolls ?? [])];
  let checks = 0;
  return () => troubles.shift() ?? answerCheck(++checks);
}

/** The answer that serves a finished video. */
export function videoAnswer(video: Buffer): StubAnswer {
  return { headers: { 'content-type': 'video/mp4' }, body: video };
}
