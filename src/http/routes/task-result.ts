import type { FastifyInstance } from 'fastify';
import { invalidRequest } from '../../spec/api-error.js';
import { type TaskResultResponse, taskResultSchema } from '../../models/task-result-schema.js';
import type { TaskService } from '../../tasks/task-service.js';
import type { CachedAuthenticator } from '../../auth/api-keys.js';

/** `GET /v3/async/task-result?task_id=…` */
export function taskResultRoute(app: FastifyInstance, tasks: TaskService, keys: CachedAuthenticator): void {
  // The response schema gives the compiled stringifier; the body it makes is kept per task version (resultBody).
  app.get('/v3/async/task-result', { schema: { response: { 200: taskResultSchema } } }, async (request, reply) => {
    const key = await keys.authenticate(request.headers.authorization);
    const taskId = (request.query as Record<string, unknown>).task_id;
    if (typeof taskId !== 'string' || taskId === '') {
      throw invalidRequest('task_id', 'the query parameter task_id is required, e.g. /v3/async/task-result?task_id=<id>');
    }
    const body = await tasks.resultBody(taskId, key.id, reply.getSerializationFunction('200') as (view: TaskResultResponse) => string);
    // A string with its type set is sent as it is, not serialized again.
    return reply.type('application/json; charset=utf-8').send(body);
  });
}
