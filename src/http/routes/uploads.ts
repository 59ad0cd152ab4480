import type { FastifyInstance } from 'fastify';
import type { CachedAuthenticator } from '../../auth/api-keys.js';
import { storeUpload, type UploadPlace } from '../../media/store-upload.js';

export interface UploadRouteOptions extends UploadPlace {
  auth: CachedAuthenticator;
}

/**
 * `POST /v3/uploads`: a local file becomes a URL that any request may use. The raw body is the
 * file, checked and stored by media/store-upload.ts. Answers `{url, content_type, size_bytes,
 * url_ttl_seconds}`.
 */
export function uploadRoutes(app: FastifyInstance, options: UploadRouteOptions): void {
  app.register(async (scope) => {
    // Every Content-Type arrives as the raw stream, only in this route's scope.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

    scope.post('/v3/uploads', async (request) => {
      const apiKey = await options.auth.authenticate(request.headers.authorization);
      const upload = await storeUpload(options, apiKey.id, {
        // The body as the parser handed it over (through the body deadline); a request without
        // one is not parsed at all, and its raw stream is empty.
        chunks: (request.body ?? request.raw) as AsyncIterable<Buffer>,
        field: 'body',
        sentAs: 'the request body',
        name: fileName(request.headers['x-file-name']),
        declaredLength: Number(request.headers['content-length'] ?? Number.NaN),
      });
      return {
        url: upload.url,
        content_type: upload.contentType,
        size_bytes: upload.sizeBytes,
        url_ttl_seconds: options.urlTtlSeconds,
      };
    });
  });
}

/** The `x-file-name` header, percent-decoded; a malformed escape keeps the default name rather than refuse the file. */
function fileName(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  try {
    return decodeURIComponent(String(header));
  } catch {
    return undefined;
  }
}
