import type { FastifyInstance } from 'fastify';
import { fileTypeFromBuffer } from 'file-type';
import { v7 as uuidv7 } from 'uuid';
import { ApiError, invalidRequest } from '../../spec/api-error.js';
import type { BlobStore } from '../../spec/blob-store.js';
import type { CachedAuthenticator } from '../../auth/api-keys.js';
import { contentTypeOfKey } from '../../blobs/blob-key.js';
import { largestAllowedBytes, mediaFormatKinds, megabyte } from '../../models/media-limits.js';
import type { MediaKind } from '../../models/model.js';
import { describeBytes, mediaReason } from '../../media/media-limit-check.js';
import { uploadKeyPrefix } from '../../media/uploaded-media-source.js';

export interface UploadRouteOptions {
  auth: CachedAuthenticator;
  blobs: BlobStore;
  /** How long the answered URL works. */
  urlTtlSeconds: number;
  clock: () => number;
}

/** file-type needs this much of the start of a file to tell every format above. */
const detectionBytes = 4100;

/**
 * `POST /v3/uploads`: a local file becomes a URL that any request may use. The raw body is the
 * file; its format is read from its first bytes (never from the Content-Type or the name) and
 * sets the cap, the largest any field of that kind accepts, counted while the body streams into
 * the blob store. Answers `{url, content_type, size_bytes, url_ttl_seconds}`.
 */
export function uploadRoutes(app: FastifyInstance, options: UploadRouteOptions): void {
  app.register(async (scope) => {
    // Every Content-Type arrives as the raw stream, only in this route's scope.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

    scope.post('/v3/uploads', async (request) => {
      await options.auth.authenticate(request.headers.authorization);
      const declaredLength = Number(request.headers['content-length'] ?? Number.NaN);
      const largest = Math.max(...Object.values(largestAllowedBytes));
      if (declaredLength > largest) throw tooLarge(undefined, declaredLength, largest);

      const body = request.raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      const head = await readHead(body);
      const detected = await fileTypeFromBuffer(head);
      const kind = detected && mediaFormatKinds.get(detected.ext);
      if (!detected || !kind) {
        throw invalidRequest(
          'body',
          `body: the upload is ${detected ? detected.ext.toUpperCase() : 'of no recognised media format'}; accepted: JPEG, PNG, BMP, WEBP images, MP4, MOV videos, WAV, MP3, FLAC audio`,
          { value: detected?.ext ?? 'unknown' },
        );
      }
      const cap = largestAllowedBytes[kind];
      if (declaredLength > cap) throw tooLarge(kind, declaredLength, cap);

      const key = `${uploadKeyPrefix}${uuidv7()}/${storedName(request.headers['x-file-name'], detected.ext)}`;
      const size = await options.blobs.putStream(key, capped(head, body, kind, cap), contentTypeOfKey(key));
      const expiresAt = options.clock() + options.urlTtlSeconds * 1000;
      return {
        url: options.blobs.signedUrl(key, expiresAt),
        content_type: contentTypeOfKey(key),
        size_bytes: size,
        url_ttl_seconds: options.urlTtlSeconds,
      };
    });
  });
}

async function readHead(body: AsyncIterator<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  while (length < detectionBytes) {
    const next = await body.next();
    if (next.done) break;
    chunks.push(next.value);
    length += next.value.length;
  }
  if (length === 0) throw invalidRequest('body', 'body: the upload is empty: send the file as the request body');
  return Buffer.concat(chunks);
}

/** The head already read, then the rest, stopped the moment the cap is passed. */
async function* capped(head: Buffer, rest: AsyncIterator<Buffer>, kind: MediaKind, cap: number): AsyncGenerator<Buffer> {
  let total = head.length;
  if (total > cap) throw tooLarge(kind, total, cap);
  yield head;
  for (let next = await rest.next(); !next.done; next = await rest.next()) {
    total += next.value.length;
    if (total > cap) throw tooLarge(kind, total, cap);
    yield next.value;
  }
}

function tooLarge(kind: MediaKind | undefined, bytes: number, cap: number): ApiError {
  const what = kind ? `an ${kind === 'image' ? 'image' : kind === 'video' ? 'video' : 'audio file'}` : 'any upload';
  const found = kind ? `at least ${describeBytes(bytes)}` : describeBytes(bytes);
  return new ApiError(
    400,
    kind ? mediaReason(kind, 'fileSize') : 'INVALID_REQUEST_BODY',
    `body: the upload is ${found}; the limit for ${what} is ${cap / megabyte} MB`,
    { field: 'body', value: bytes, limit: cap },
  );
}

/**
 * The client's file name, reduced to letters, digits, dots, dashes and underscores, with the
 * extension of the format found: blob keys stay safe and the file is served with its true type.
 */
function storedName(header: string | string[] | undefined, extension: string): string {
  let name = 'upload';
  try {
    name = decodeURIComponent(String(header ?? 'upload'));
  } catch {
    // A malformed escape: keep the default name rather than refuse the file.
  }
  const stem = name.replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/\.{2,}/g, '.').replace(/^[^A-Za-z0-9]+/, '').slice(0, 100);
  return `${stem || 'upload'}.${extension}`;
}
