import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import { keyFromAuthorization } from '../../auth/api-keys.js';
import { errors } from '../../spec/api-error.js';

/** What `GET /metrics` answers: the Prometheus text exposition. */
export interface MetricsExposition {
  readonly contentType: string;
  render(): Promise<string>;
}

/**
 * `GET /metrics`, for Prometheus. With a token, only a request bearing it is answered (401 in the
 * documented body otherwise); an API key never opens it, whatever the key may do elsewhere.
 */
export function metricsRoute(app: FastifyInstance, metrics: MetricsExposition, token: string | undefined): void {
  const expected = token === undefined ? undefined : digest(token);
  app.get('/metrics', {
    // For the operator's monitoring, not the clients': out of the OpenAPI document, like the playground.
    schema: { hide: true } as FastifySchema,
    onRequest: async (request: FastifyRequest, reply: FastifyReply) => {
      if (expected === undefined) return;
      const sent = keyFromAuthorization(request.headers.authorization);
      if (sent !== undefined && timingSafeEqual(digest(sent), expected)) return;
      reply.header('www-authenticate', 'Bearer realm="metrics"');
      throw sent === undefined ? errors.missingMetricsToken() : errors.invalidMetricsToken();
    },
    handler: async (_request, reply) => reply.type(metrics.contentType).send(await metrics.render()),
  });
}

/** Equal lengths, so the comparison takes the same time whatever was sent. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
