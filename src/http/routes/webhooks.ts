import type { FastifyInstance } from 'fastify';
import type { CachedAuthenticator } from '../../auth/api-keys.js';
import { deliveriesSchema, webhookSecretSchema } from '../../models/task-result-schema.js';
import type { ApiKeyStore } from '../../spec/key-store.js';
import type { WebhookStore } from '../../spec/webhook-store.js';
import type { TaskService } from '../../tasks/task-service.js';
import { requiredTaskId } from './task-id.js';

/**
 * `GET /v3/webhook-secret`: the calling key's signing secret (`whsec_…`), made on first use; every
 * event of the key's tasks is signed with it, so one key cannot forge another's events.
 * `GET /v3/async/task-webhooks?task_id=…`: the delivery state of a task's events.
 */
export function webhookRoutes(
  app: FastifyInstance,
  options: { tasks: TaskService; auth: CachedAuthenticator; keys: Pick<ApiKeyStore, 'webhookSecret'>; webhooks: Pick<WebhookStore, 'deliveriesOf'> },
): void {
  app.get('/v3/webhook-secret', { schema: { response: { 200: webhookSecretSchema } } }, async (request) => {
    const key = await options.auth.authenticate(request.headers.authorization);
    return { secret: await options.keys.webhookSecret(key.id) };
  });

  app.get('/v3/async/task-webhooks', { schema: { response: { 200: deliveriesSchema } } }, async (request) => {
    const key = await options.auth.authenticate(request.headers.authorization);
    const taskId = requiredTaskId((request.query as Record<string, unknown>).task_id, '/v3/async/task-webhooks?task_id=<id>');
    await options.tasks.ownSnapshot(taskId, key.id);
    const deliveries = await options.webhooks.deliveriesOf(taskId, key.id);
    return {
      deliveries: deliveries.map((delivery) => ({
        id: delivery.id,
        url: delivery.url,
        event_type: delivery.eventType,
        state: delivery.state,
        attempts: delivery.attempts,
        last_status_code: delivery.lastStatusCode,
        last_error: delivery.lastError,
        last_attempt_at: delivery.lastAttemptAt,
        next_attempt_at: delivery.nextAttemptAt,
        created_at: delivery.createdAt,
      })),
    };
  });
}
