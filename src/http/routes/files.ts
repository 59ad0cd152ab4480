import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../spec/api-error.js';
import type { BlobStore } from '../../spec/blob-store.js';
import { isValidBlobKey } from '../../blobs/blob-key.js';
import type { UrlSigner } from '../../blobs/url-signer.js';
import { sendBlob } from '../send-blob.js';

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

    const sent = await sendBlob(request, reply, blobs, key, 'private, max-age=3600');
    if (!sent) throw new ApiError(404, 'FILE_NOT_FOUND', 'the file no longer exists');
    return reply;
  });
}

