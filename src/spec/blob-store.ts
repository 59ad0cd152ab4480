import type { Readable } from 'node:stream';

/**
 * Where result videos and uploads live: local disk in the embedded set-up, S3-compatible object
 * storage when configured (docs/storage.md). Keys are relative paths of safe segments, checked
 * by blobs/blob-key.ts; a key ends with the extension of its format, and `contentType` is the
 * type that extension names (models/media-formats.ts): object storage keeps it with the object,
 * the local store derives it from the key again when it serves the file.
 */
export interface BlobStore {
  /** Copies a local file into the store under `key`. */
  putFile(key: string, sourcePath: string, contentType: string): Promise<void>;
  /**
   * Stores a stream under `key`, without holding it in memory. When the stream fails (an upload
   * over its cap, a client that hung up) nothing is stored, a blob already under the key stays
   * as it was, and the stream's own error is the one thrown. Answers the bytes stored.
   */
  putStream(key: string, source: AsyncIterable<Uint8Array>, contentType: string): Promise<number>;
  /**
   * A URL anyone holding it can fetch the blob from (byte ranges too) until at least `expiresAt`
   * (epoch ms), with no other credential: a URL of this server signed with its secret, or a
   * presigned URL of the object store. Once its time has passed the URL is refused.
   */
  url(key: string, expiresAt: number): Promise<string>;
  /** Size and type of a blob, or undefined when it does not exist. */
  head(key: string): Promise<BlobInfo | undefined>;
  /**
   * Opens a blob for reading, or undefined when it does not exist. With a range (both ends
   * inclusive; `start` below the size, an `end` past the last byte or none reads to the end) the
   * stream holds only those bytes, while `size` stays that of the whole blob.
   */
  open(key: string, range?: { start: number; end?: number }): Promise<BlobReadable | undefined>;
  /** Removes blobs; a key that does not exist is not an error. */
  delete(keys: readonly string[]): Promise<void>;
  /**
   * Whether the URLs of `url` can be reached from the internet (a cloud engine fetching an
   * upload): for local files when the server's base URL is a public address, for object storage
   * unless its endpoint is a private one (a MinIO on the local network).
   */
  readonly urlsReachOutside: boolean;
}

export interface BlobInfo {
  size: number;
  contentType: string;
}

export interface BlobReadable extends BlobInfo {
  stream: Readable;
}
