import type { FastifyInstance } from 'fastify';
import type { CachedAuthenticator } from '../../auth/api-keys.js';
import { taskResultSchema } from '../../models/task-result-schema.js';
import type { TaskService } from '../../tasks/task-service.js';
import { requiredTaskId } from './task-id.js';

/**
 * `POST /v3/async/task-cancel` with `{"task_id": "…"}`: ends a queued or running task of the
 * calling key as failed (TASK_CANCELLED) and answers its Task Result; a task that already ended
 * is answered 409 and left as it was.
 */
export function taskCancelRoute(app: FastifyInstance, tasks: TaskService, keys: CachedAuthenticator): void {
  app.post('/v3/async/task-cancel', { schema: { response: { 200: taskResultSchema } } }, async (request) => {
    const key = await keys.authenticate(request.headers.authorization);
    const body = request.body as Record<string, unknown> | null | undefined;
    const taskId = requiredTaskId(typeof body === 'object' && body !== null ? body.task_id : undefined, '{"task_id": "<id>"}');
    return tasks.cancel(taskId, key.id);
  });
}
