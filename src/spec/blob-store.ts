import type { Readable } from 'node:stream';

/** Where result files live: local disk by default, object storage when configured. */
export interface BlobStore {
  /** Copies a local file into the store under `key`. */
  putFile(key: string, sourcePath: string, contentType: string): Promise<void>;
  /** A URL a client can fetch the blob from until `expiresAt` (epoch ms). */
  signedUrl(key: string, expiresAt: number): string;
  /** Opens a blob for reading, or undefined when it does not exist. */
  open(key: string, range?: { start: number; end?: number }): Promise<BlobReadable | undefined>;
}

export interface BlobReadable {
  stream: Readable;
  size: number;
  contentType: string;
}
