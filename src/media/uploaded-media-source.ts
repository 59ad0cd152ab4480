import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { ApiError } from '../spec/api-error.js';
import type { BlobStore } from '../spec/blob-store.js';
import { DownloadError } from '../net/download-error.js';
import type { FetchedMedia, MediaSource } from './media-source.js';
import type { OwnUploads } from './own-uploads.js';

/** Blob keys of files received by `POST /v3/uploads`. */
export const uploadKeyPrefix = 'uploads/';

/**
 * Reads files uploaded to this server straight from the blob store: no request goes out, so an
 * upload works even where the server cannot reach its own public URL. Every other URL goes to
 * the network source.
 */
export class UploadedMediaSource implements MediaSource {
  constructor(
    private readonly uploads: OwnUploads,
    private readonly blobs: BlobStore,
    private readonly network: MediaSource,
    private readonly clock: () => number = Date.now,
  ) {}

  async download(url: string, file: string, limits: { maxBytes: number; signal?: AbortSignal }): Promise<FetchedMedia> {
    const upload = await this.uploads.find(url);
    if (!upload) return this.network.download(url, file, limits);
    if (upload.expiresAt < this.clock()) throw new ApiError(400, 'MEDIA_URL_EXPIRED', 'the upload URL has expired: upload the file again for a fresh URL');
    const blob = await this.blobs.open(upload.blobKey);
    if (!blob) throw new ApiError(400, 'MEDIA_DOWNLOAD_FAILED', 'the uploaded file no longer exists: upload it again');
    if (blob.size > limits.maxBytes) {
      blob.stream.destroy();
      throw new DownloadError('TOO_LARGE', `the upload is ${blob.size} bytes, over the limit of ${limits.maxBytes}`, { limitBytes: limits.maxBytes });
    }
    try {
      await pipeline(blob.stream, createWriteStream(file), { signal: limits.signal });
    } catch (error) {
      await rm(file, { force: true });
      throw error;
    }
    return { bytes: blob.size, ownUpload: true };
  }
}
