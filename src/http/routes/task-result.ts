import type { FastifyInstance } from 'fastify';
import { invalidRequest } from '../../spec/api-error.js';
import { taskResultSchema } from '../../models/task-result-schema.js';
import type { TaskService } from '../../tasks/task-service.js';
import type { CachedAuthenticator } from '../../auth/api-keys.js';

/** `GET /v3/async/task-result?task_id=…` */
export function taskResultRoute(app: FastifyInstance, tasks: TaskService, keys: CachedAuthenticator): void {
  // The response schema lets Fastify serialise with a compiled stringifier.
  app.get('/v3/async/task-result', { schema: { response: { 200: taskResultSchema } } }, async (request) => {
    const key = await keys.authenticate(request.headers.authorization);
    const taskId = (request.query as Record<string, unknown>).task_id;
    if (typeof taskId !== 'string' || taskId === '') {
      throw invalidRequest('task_id', 'the query parameter task_id is required, e.g. /v3/async/task-result?task_id=<id>');
    }
    return tasks.result(taskId, key.id);
  });
}
