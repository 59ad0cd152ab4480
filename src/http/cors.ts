import fastifyCors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

/** Request headers a web page may send: the key, the JSON type, and those of uploads and of resumed streams. */
export const corsAllowedHeaders = ['Authorization', 'Content-Type', 'Idempotency-Key', 'Last-Event-ID', 'x-file-name', 'Range'];

/** Response headers a web page may read beyond the always-visible ones. */
export const corsExposedHeaders = ['Retry-After', 'Content-Range', 'Accept-Ranges'];

/** How long a browser may reuse a preflight answer, in seconds. */
const preflightMaxAgeSeconds = 600;

/**
 * CORS, so that the SDK runs in web pages: every route, the signed file URLs included, answers
 * preflights and names the allowed origin. `origins` is the `cors_origins` setting: `*`, or the
 * exact origins allowed. The key travels in `Authorization`, never in cookies, so credentials
 * mode is not needed and `*` stays usable.
 */
export function installCors(app: FastifyInstance, origins: readonly string[]): void {
  void app.register(fastifyCors, {
    origin: origins.includes('*') ? '*' : [...origins],
    methods: ['GET', 'HEAD', 'POST'],
    allowedHeaders: corsAllowedHeaders,
    exposedHeaders: corsExposedHeaders,
    maxAge: preflightMaxAgeSeconds,
    // A bare OPTIONS (no Origin) gets the same 204 instead of the plugin's text/plain 400.
    strictPreflight: false,
  });
}
