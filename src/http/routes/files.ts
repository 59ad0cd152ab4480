import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../spec/api-error.js';
import type { BlobStore } from '../../spec/blob-store.js';
import { isValidBlobKey } from '../../blobs/blob-key.js';
import type { UrlSigner } from '../../blobs/url-signer.js';

/**
 * `GET /v3/files/<key>?expires=…&signature=…`: result files of the local blob store. The signed
 * URL is the credential, so players and browsers can fetch it directly; byte ranges are served
 * so a video can be seeked without downloading it whole.
 */
export function fileRoutes(app: FastifyInstance, blobs: BlobStore, signer: UrlSigner, clock: () => number): void {
  app.get('/v3/files/*', async (request, reply) => {
    const key = (request.params as { '*': string })['*'];
    const query = request.query as Record<string, string | undefined>;
    const expires = Number(query.expires);
    const verdict =
      isValidBlobKey(key) && Number.isInteger(expires) && typeof query.signature === 'string'
        ? signer.verify(key, expires, query.signature, clock())
        : 'invalid';
    if (verdict === 'expired') throw new ApiError(403, 'URL_EXPIRED', 'this file URL has expired: read the task result again for a fresh one');
    if (verdict === 'invalid') throw new ApiError(403, 'INVALID_SIGNATURE', 'this file URL is not valid: its signature does not match');

    const whole = await blobs.open(key);
    if (!whole) throw new ApiError(404, 'FILE_NOT_FOUND', 'the file no longer exists');
    reply.header('accept-ranges', 'bytes').header('content-type', whole.contentType).header('cache-control', 'private, max-age=3600');
    const range = parseRange(request.headers.range, whole.size);
    if (range === 'unsatisfiable') {
      whole.stream.destroy();
      return reply.code(416).header('content-range', `bytes */${whole.size}`).send();
    }
    if (!range) return reply.header('content-length', whole.size).send(whole.stream);
    whole.stream.destroy();
    const part = await blobs.open(key, range);
    if (!part) throw new ApiError(404, 'FILE_NOT_FOUND', 'the file no longer exists');
    return reply
      .code(206)
      .header('content-range', `bytes ${range.start}-${range.end}/${whole.size}`)
      .header('content-length', range.end - range.start + 1)
      .send(part.stream);
  });
}

/** One `bytes=` range (the form players send); several ranges are answered with the whole file. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const match = header && /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const start = match[1] === '' ? Math.max(0, size - Number(match[2])) : Number(match[1]);
  const end = match[1] === '' || match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  return start > end || start >= size ? 'unsatisfiable' : { start, end };
}
