import type { FastifyInstance } from 'fastify';
import type { CachedAuthenticator } from '../../auth/api-keys.js';
import { models } from '../../models/registry.js';
import type { ModelId } from '../../models/model.js';
import { taskListSchema } from '../../models/task-result-schema.js';
import { invalidRequest } from '../../spec/api-error.js';
import { oneOf, optional } from '../query-parameters.js';
import { TaskStatus } from '../../spec/task-status.js';
import type { TaskService } from '../../tasks/task-service.js';

const pageSizes = { default: 20, maximum: 100 };
const statuses: readonly string[] = Object.values(TaskStatus);
const modelIds: readonly string[] = models.map((model) => model.id);

/**
 * `GET /v3/async/tasks?limit=&cursor=&status=&model=`: the calling key's tasks, newest first, each
 * in the Task Result shape; `next_cursor` continues the list, null on its last page.
 */
export function taskListRoute(app: FastifyInstance, tasks: TaskService, keys: CachedAuthenticator): void {
  app.get('/v3/async/tasks', { schema: { response: { 200: taskListSchema } } }, async (request) => {
    const key = await keys.authenticate(request.headers.authorization);
    const query = request.query as Record<string, unknown>;
    const page = await tasks.list(key.id, {
      limit: pageSize(query.limit),
      order: 'newest',
      ...optional('cursor', query.cursor, (value) => ({ after: value })),
      ...optional('status', query.status, (value) => ({ status: oneOf('status', value, statuses) as TaskStatus })),
      ...optional('model', query.model, (value) => ({ model: oneOf('model', value, modelIds) as ModelId })),
    });
    return { tasks: page.tasks, next_cursor: page.next ?? null };
  });
}

function pageSize(value: unknown): number {
  if (value === undefined) return pageSizes.default;
  const size = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(size >= 1 && size <= pageSizes.maximum)) {
    throw invalidRequest('limit', `limit must be a whole number from 1 to ${pageSizes.maximum}, got ${JSON.stringify(value)}`, {
      value,
      minimum: 1,
      maximum: pageSizes.maximum,
    });
  }
  return size;
}
