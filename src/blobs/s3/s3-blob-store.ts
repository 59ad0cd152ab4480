import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { BlobInfo, BlobReadable, BlobStore } from '../../spec/blob-store.js';
import { assertValidBlobKey } from '../blob-key.js';
import { PresignedUrlCache } from './presigned-url-cache.js';

/** The longest lifetime S3 accepts for a presigned URL (SigV4): seven days. */
export const longestPresignSeconds = 7 * 24 * 3600;

/**
 * Parts of a streamed upload: S3's smallest, 5 MiB, two in flight, so one upload holds about
 * three parts in memory however large the file (10,000 parts allow 50 GB). Larger parts or more
 * of them in flight made the peak memory of a 100 MB upload grow without making it faster
 * (measured against s3rver on loopback).
 */
const partBytes = 5 * 1024 * 1024;
const partsInFlight = 2;

/** A presigned URL is reused for at least this long (see `url`). */
const reuseMs = 60_000;

/** DeleteObjects takes at most this many keys per request. */
const deleteBatch = 1000;

export interface S3BlobStoreOptions {
  client: S3Client;
  bucket: string;
  /** Prepended to every key (`wan/`), or empty for the bucket's root. */
  prefix: string;
  /** False for a service on a private address (a MinIO on the local network); true by default. */
  urlsReachOutside?: boolean;
  clock?: () => number;
}

/**
 * Blobs as objects of one bucket of S3 or an S3-compatible service. Uploads are streamed as
 * multipart uploads; reads, sizes and types come from the objects; URLs are presigned GETs,
 * which anyone (a browser, a cloud engine) can fetch without going through this server.
 */
export class S3BlobStore implements BlobStore {
  readonly urlsReachOutside: boolean;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly clock: () => number;
  private readonly urls = new PresignedUrlCache();

  constructor(options: S3BlobStoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = options.prefix;
    this.urlsReachOutside = options.urlsReachOutside ?? true;
    this.clock = options.clock ?? Date.now;
  }

  async putFile(key: string, sourcePath: string, contentType: string): Promise<void> {
    await this.upload(this.objectKey(key), fileChunks(sourcePath), contentType);
  }

  async putStream(key: string, source: AsyncIterable<Uint8Array>, contentType: string): Promise<number> {
    return this.upload(this.objectKey(key), source, contentType);
  }

  async url(key: string, expiresAt: number): Promise<string> {
    const objectKey = this.objectKey(key);
    const cached = this.urls.get(key, expiresAt);
    if (cached) return cached;
    const now = this.clock();
    // Signed for one to two minutes longer than asked, so the URL made for one poll serves the
    // polls of the next minute or two. The extra time is random per URL: keys first asked
    // together (every client polling again after a restart) then fall due at different moments,
    // instead of all being signed again in the same second, minute after minute. A time
    // already past is kept as it is: that URL must not work.
    const until = expiresAt > now ? expiresAt + reuseMs + Math.floor(Math.random() * reuseMs) : expiresAt;
    // SigV4 dates are whole seconds, and the date may not be after the expiry.
    const signedAt = Math.floor(Math.min(now, until - 1000) / 1000) * 1000;
    const expiresIn = Math.min(longestPresignSeconds, Math.ceil((until - signedAt) / 1000));
    const url = await getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: objectKey }), {
      expiresIn,
      signingDate: new Date(signedAt),
    });
    this.urls.set(key, url, signedAt + expiresIn * 1000);
    return url;
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    const objectKey = this.objectKey(key);
    try {
      const answer = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      return { size: answer.ContentLength ?? 0, contentType: answer.ContentType ?? 'application/octet-stream' };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async open(key: string, range?: { start: number; end?: number }): Promise<BlobReadable | undefined> {
    const objectKey = this.objectKey(key);
    let answer;
    try {
      answer = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: objectKey,
          Range: range ? `bytes=${range.start}-${range.end ?? ''}` : undefined,
        }),
      );
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    if (!(answer.Body instanceof Readable)) throw new Error(`S3 answered no readable body for ${objectKey}`);
    // A ranged answer's Content-Length is that of the range; the whole size ends Content-Range.
    const size = answer.ContentRange ? Number(answer.ContentRange.slice(answer.ContentRange.lastIndexOf('/') + 1)) : answer.ContentLength;
    return { stream: answer.Body, size: size ?? 0, contentType: answer.ContentType ?? 'application/octet-stream' };
  }

  async delete(keys: readonly string[]): Promise<void> {
    const objectKeys = keys.map((key) => this.objectKey(key));
    for (let first = 0; first < objectKeys.length; first += deleteBatch) {
      const batch = objectKeys.slice(first, first + deleteBatch);
      const answer = await this.client.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
      );
      // A key that does not exist counts as deleted; anything listed here really failed.
      const failed = answer.Errors ?? [];
      if (failed.length > 0) {
        throw new Error(`S3 did not delete ${failed.length} of ${batch.length} objects, the first ${failed[0].Key}: ${failed[0].Code} ${failed[0].Message}`);
      }
    }
  }

  /** Streams `source` to the object as a multipart upload (one PUT when it is small); answers its bytes. */
  private async upload(objectKey: string, source: AsyncIterable<Uint8Array>, contentType: string): Promise<number> {
    let bytes = 0;
    let sourceError: unknown;
    async function* counted(): AsyncGenerator<Uint8Array> {
      try {
        for await (const chunk of source) {
          bytes += chunk.byteLength;
          yield chunk;
        }
      } catch (error) {
        sourceError = error;
        throw error;
      }
    }
    const body = Readable.from(counted(), { objectMode: false });
    // A failed upload is aborted (leavePartsOnError: false), so no object and no parts remain.
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: objectKey, Body: body, ContentType: contentType },
      partSize: partBytes,
      queueSize: partsInFlight,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      // When the stream failed, its error is the one that matters (an upload over its cap is
      // the client's fault); a failure to abort must not replace it.
      throw sourceError ?? error;
    } finally {
      body.destroy();
    }
    return bytes;
  }

  private objectKey(key: string): string {
    assertValidBlobKey(key);
    return this.prefix + key;
  }
}

/** A file's bytes, opened only once read: an upload that fails before reading leaves no file open. */
async function* fileChunks(file: string): AsyncGenerator<Uint8Array> {
  yield* createReadStream(file);
}

function isNotFound(error: unknown): boolean {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404;
}
