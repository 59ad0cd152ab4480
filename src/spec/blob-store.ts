import type { Readable } from 'node:stream';

/** Where result files live: local disk by default, object storage when configured. */
export interface BlobStore {
  /** Copies a local file into the store under `key`. */
  putFile(key: string, sourcePath: string, contentType: string): Promise<void>;
  /**
   * Stores a stream under `key`; nothing is stored when the stream fails (an upload over its
   * cap, a client that hung up). Answers the bytes stored.
   */
  putStream(key: string, source: AsyncIterable<Uint8Array>, contentType: string): Promise<number>;
  /** A URL a client can fetch the blob from until `expiresAt` (epoch ms). */
  signedUrl(key: string, expiresAt: number): string;
  /**
   * The key behind a URL that `signedUrl` made, so the server reads its own files from the store
   * rather than over the network; `expired` when the signature is right but its time is past;
   * undefined for any other URL.
   */
  keyOfSignedUrl(url: string, now: number): { key: string; expired: boolean } | undefined;
  /** Opens a blob for reading, or undefined when it does not exist. */
  open(key: string, range?: { start: number; end?: number }): Promise<BlobReadable | undefined>;
}

export interface BlobReadable {
  stream: Readable;
  size: number;
  contentType: string;
}
