import type { FastifyInstance } from 'fastify';
import { models, modelPath } from '../../models/registry.js';
import { taskCreatedSchema } from '../../models/task-result-schema.js';
import type { TaskService } from '../../tasks/task-service.js';
import type { CachedAuthenticator } from '../../auth/api-keys.js';

/** `POST /v3/async/<model>`: one route per model, each answering `{"task_id": "…"}`. */
export function submitRoutes(app: FastifyInstance, tasks: TaskService, keys: CachedAuthenticator): void {
  for (const model of models) {
    app.post(modelPath(model), { schema: { response: { 200: taskCreatedSchema } } }, async (request) => {
      const key = await keys.authenticate(request.headers.authorization);
      const idempotencyKey = request.headers['idempotency-key'];
      return { task_id: await tasks.submit(model, key, request.body, { idempotencyKey: typeof idempotencyKey === 'string' ? idempotencyKey : undefined }) };
    });
  }
}
