import type { FastifyInstance } from 'fastify';
import type { CachedAuthenticator } from '../../auth/api-keys.js';
import { invalidRequest } from '../../spec/api-error.js';
import type { TaskEvents } from '../../spec/task-events.js';
import type { TaskStore } from '../../spec/task-store.js';
import { taskChanges } from '../../tasks/task-changes.js';
import type { TaskService } from '../../tasks/task-service.js';
import { requiredTaskId } from './task-id.js';

export interface TaskEventsRouteOptions {
  tasks: TaskService;
  keys: CachedAuthenticator;
  store: Pick<TaskStore, 'getSnapshot'>;
  events: TaskEvents;
  /** Comment lines that keep proxies from closing a quiet stream. */
  heartbeatMs?: number;
  /** How often a stream reads its task when no event came (changes made by other processes). */
  pollMs?: number;
}

/**
 * `GET /v3/async/task-events?task_id=…`: the task's states as Server-Sent Events, one per change
 * (`id: <version>`, `event: task`, `data: <Task Result>`), ending after the terminal one.
 * `Last-Event-ID` skips the states a reconnecting client has seen. Everything that can be refused
 * (key, task) is checked before the stream starts, so refusals are the documented JSON body.
 * Open streams end when the server closes, so they never hold up a shutdown.
 */
export function taskEventsRoute(app: FastifyInstance, options: TaskEventsRouteOptions): void {
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const pollMs = options.pollMs ?? 1000;
  const open = new Set<AbortController>();
  app.addHook('preClose', async () => {
    for (const stream of open) stream.abort();
  });

  app.get('/v3/async/task-events', async (request, reply) => {
    const key = await options.keys.authenticate(request.headers.authorization);
    const taskId = requiredTaskId((request.query as Record<string, unknown>).task_id, '/v3/async/task-events?task_id=<id>');
    const lastEventId = parseLastEventId(request.headers['last-event-id']);
    await options.tasks.ownSnapshot(taskId, key.id);

    reply.hijack();
    const response = reply.raw;
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx buffers responses unless told not to; a buffered stream is no stream.
      'x-accel-buffering': 'no',
    });
    const stream = new AbortController();
    open.add(stream);
    request.raw.once('close', () => stream.abort());
    response.once('close', () => stream.abort());
    const heartbeat = setInterval(() => response.write(': keep-alive\n\n'), heartbeatMs);
    try {
      for await (const task of taskChanges(taskId, lastEventId, { store: options.store, events: options.events, pollMs }, stream.signal)) {
        const view = await options.tasks.view(task);
        response.write(`id: ${task.version}\nevent: task\ndata: ${JSON.stringify(view)}\n\n`);
      }
    } catch (error) {
      // The stream has begun: no error body can be sent any more. The client reconnects.
      request.log.error({ err: error, task_id: taskId }, 'task event stream failed');
    } finally {
      clearInterval(heartbeat);
      open.delete(stream);
      response.end();
    }
  });
}

/** The version a reconnecting client saw last (-1: none); a header that is not one is refused. */
function parseLastEventId(header: string | string[] | undefined): number {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (value === undefined || value === '') return -1;
  if (!/^\d{1,15}$/.test(value)) {
    throw invalidRequest('Last-Event-ID', `the Last-Event-ID header must be the id of an event of this stream (a whole number), got ${JSON.stringify(value.slice(0, 40))}`);
  }
  return Number(value);
}
