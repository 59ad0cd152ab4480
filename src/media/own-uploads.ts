import { createHash } from 'node:crypto';
import type { UploadRecord, UploadStore } from '../spec/upload-store.js';

/** The key under which a URL answered by `POST /v3/uploads` is recorded. */
export function uploadUrlHash(url: string): string {
  return createHash('sha256').update(url).digest('hex');
}

/**
 * Tells the URLs this server answered for uploads from any other URL, by their records in the
 * store (never by taking a URL apart): a task that names one reads the file from the blob store.
 */
export class OwnUploads {
  constructor(private readonly store: UploadStore) {}

  /** The upload `url` stands for, or undefined for a URL this server never answered. */
  find(url: string): Promise<UploadRecord | undefined> {
    return this.store.findUploadByUrlHash(uploadUrlHash(url));
  }
}
