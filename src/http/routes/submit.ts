import type { FastifyInstance } from 'fastify';
import { models, modelPath } from '../../models/registry.js';
import type { TaskService } from '../../tasks/task-service.js';
import { authenticate } from '../../auth/api-keys.js';
import type { ApiKeyStore } from '../../spec/task-store.js';

/** `POST /v3/async/<model>`: one route per model, each answering `{"task_id": "…"}`. */
export function submitRoutes(app: FastifyInstance, tasks: TaskService, keys: ApiKeyStore): void {
  for (const model of models) {
    app.post(modelPath(model), async (request) => {
      const key = await authenticate(keys, request.headers.authorization);
      return { task_id: await tasks.submit(model, key.id, request.body) };
    });
  }
}
