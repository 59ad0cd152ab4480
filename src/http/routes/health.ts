import type { FastifyInstance } from 'fastify';

/** `/healthz`: the process answers. `/readyz`: it can take work (store reachable, not draining). */
export function healthRoutes(app: FastifyInstance, isReady: () => Promise<{ ready: boolean; checks: Record<string, string> }>): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const { ready, checks } = await isReady();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });
}
