import type { FastifyInstance } from 'fastify';
import { ApiError } from '../spec/api-error.js';
import { malformedRequest, sendError } from './error-handler.js';

/**
 * Requests refused before routing, in the documented body (Node and Fastify would answer both
 * themselves, with an empty or an undocumented body):
 * - an HTTP/1.1 request without `Host`, which the protocol requires;
 * - any request once the server is closing (a keep-alive connection may still bring one), so
 *   that a load balancer sends it elsewhere.
 */
export function installRequestGuards(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', (request, reply, done) => {
    if (closing) {
      void sendError(reply, new ApiError(503, 'SERVICE_UNAVAILABLE', 'the server is shutting down: send the request again, to another instance if there is one'));
      return;
    }
    const raw = request.raw;
    if (raw.httpVersion === '1.1' && raw.headers.host === undefined) {
      void sendError(reply, malformedRequest('an HTTP/1.1 request must carry a Host header', { field: 'Host' }));
      return;
    }
    done();
  });
}
