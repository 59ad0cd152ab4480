import type { FastifyInstance } from 'fastify';
import { invalidRequest } from '../../spec/api-error.js';
import type { ApiKeyStore } from '../../spec/task-store.js';
import type { TaskService } from '../../tasks/task-service.js';
import { authenticate } from '../../auth/api-keys.js';

/** `GET /v3/async/task-result?task_id=…` */
export function taskResultRoute(app: FastifyInstance, tasks: TaskService, keys: ApiKeyStore): void {
  app.get('/v3/async/task-result', async (request) => {
    const key = await authenticate(keys, request.headers.authorization);
    const taskId = (request.query as Record<string, unknown>).task_id;
    if (typeof taskId !== 'string' || taskId === '') {
      throw invalidRequest('task_id', 'the query parameter task_id is required, e.g. /v3/async/task-result?task_id=<id>');
    }
    return tasks.result(taskId, key.id);
  });
}
