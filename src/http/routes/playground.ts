import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../spec/api-error.js';

/**
 * `GET /`: the playground, a single page built from web/playground into dist/playground by
 * `npm run build` (which `npm install` runs). It is a client of the public API like any other.
 *
 * This file is three folders below the package root both as src/http/routes/playground.ts (run
 * through tsx) and as dist/http/routes/playground.js, so one relative path finds the build.
 */
export const playgroundDirectory = fileURLToPath(new URL('../../../dist/playground/', import.meta.url));

/**
 * What the browser may do on the page that holds the key: run only the page's own files and talk
 * only to this server. Videos may come from elsewhere: result URLs are built on `public_url`.
 */
const contentSecurityPolicy = [
  "default-src 'self'",
  "img-src 'self' data:",
  'media-src *',
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export async function playgroundRoutes(app: FastifyInstance, options: { directory?: string } = {}): Promise<void> {
  const root = options.directory ?? playgroundDirectory;
  // The page and its files are not operations of the API: hidden from its OpenAPI document.
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, hide: true } as typeof route.schema;
  });
  if (!existsSync(path.join(root, 'index.html'))) {
    app.log.warn({ directory: root }, 'the playground is not built (npm run build): GET / answers 404');
    app.get('/', async () => {
      throw new ApiError(404, 'API_NOT_FOUND', 'the playground is not built: run `npm run build`, then restart the server', {
        method: 'GET',
        path: '/',
      });
    });
    return;
  }
  await app.register(fastifyStatic, {
    root,
    // One route per file of the build (and `/` for index.html): every other path stays the API's,
    // with its own 404 body.
    wildcard: false,
    decorateReply: false,
    cacheControl: false,
    setHeaders: (response, file) => {
      response.setHeader('x-content-type-options', 'nosniff');
      if (file.endsWith('.html')) {
        // The page names its assets by content hash: it is read again each time, they never are.
        response.setHeader('cache-control', 'no-cache');
        response.setHeader('content-security-policy', contentSecurityPolicy);
      } else {
        response.setHeader('cache-control', 'public, max-age=31536000, immutable');
      }
    },
  });
}
