import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../spec/api-error.js';
import { healthSchema, readinessSchema } from '../../models/task-result-schema.js';

/** `/healthz`: the process answers. `/readyz`: it can take work (store reachable, not draining). */
export function healthRoutes(app: FastifyInstance, isReady: () => Promise<{ ready: boolean; checks: Record<string, string> }>): void {
  app.get('/healthz', { schema: { response: { 200: healthSchema } } }, async () => ({ status: 'ok' as const }));
  app.get('/readyz', { schema: { response: { 200: readinessSchema } } }, async () => {
    const { ready, checks } = await isReady();
    if (!ready) {
      const failing = Object.entries(checks).filter(([, state]) => state !== 'ok');
      throw new ApiError(503, 'SERVICE_UNAVAILABLE', `not ready: ${failing.map(([name, state]) => `${name}: ${state}`).join('; ')}`, { checks });
    }
    return { status: 'ready' as const, checks };
  });
}
