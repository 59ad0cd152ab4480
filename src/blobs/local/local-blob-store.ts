import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobInfo, BlobReadable, BlobStore } from '../../spec/blob-store.js';
import { contentTypeOfName } from '../../models/media-formats.js';
import { isPubliclyReachable } from '../../net/public-url.js';
import { assertValidBlobKey } from '../blob-key.js';
import type { UrlSigner } from '../url-signer.js';

/** Where the files route serves blobs. */
const filesPath = '/v3/files/';

/**
 * Blobs as files under one directory, served by this server at signed URLs
 * (`/v3/files/<key>?expires=…&signature=…`, see http/routes/files.ts). The type of a file is
 * read from its key's extension, so nothing is kept beside it.
 */
export class LocalBlobStore implements BlobStore {
  constructor(
    private readonly root: string,
    private readonly signer: UrlSigner,
    /** Resolved lazily: the listening port is known only once the server is up. */
    private readonly baseUrl: () => string,
  ) {}

  get urlsReachOutside(): boolean {
    return isPubliclyReachable(this.baseUrl());
  }

  async putFile(key: string, sourcePath: string): Promise<void> {
    await this.writeWhole(key, (partial) => copyFile(sourcePath, partial));
  }

  async putStream(key: string, source: AsyncIterable<Uint8Array>): Promise<number> {
    let bytes = 0;
    await this.writeWhole(key, async (partial) => {
      const output = createWriteStream(partial);
      await pipeline(Readable.from(source), output);
      bytes = output.bytesWritten;
    });
    return bytes;
  }

  async url(key: string, expiresAt: number): Promise<string> {
    assertValidBlobKey(key);
    // Rounded up: the link must work until at least expiresAt.
    const expires = Math.ceil(expiresAt / 1000);
    return `${this.baseUrl()}${filesPath}${key}?expires=${expires}&signature=${this.signer.sign(key, expires)}`;
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    const info = await stat(this.pathOf(key)).catch(() => undefined);
    return info?.isFile() ? { size: info.size, contentType: contentTypeOfName(key) } : undefined;
  }

  async open(key: string, range?: { start: number; end?: number }): Promise<BlobReadable | undefined> {
    const file = this.pathOf(key);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) return undefined;
    return {
      stream: createReadStream(file, range),
      size: info.size,
      contentType: contentTypeOfName(key),
    };
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      await rm(this.pathOf(key), { force: true });
      await this.removeEmptyParents(key);
    }
  }

  /**
   * A task's results live in a folder of their own (`videos/<task>/`), which would otherwise
   * stay behind empty. The top folder (`videos/`, `uploads/`) is kept: other writers may be
   * about to create their folder in it.
   */
  private async removeEmptyParents(key: string): Promise<void> {
    const segments = key.split('/');
    for (let depth = segments.length - 1; depth >= 2; depth--) {
      try {
        await rmdir(path.join(this.root, ...segments.slice(0, depth)));
      } catch {
        return; // not empty (or not ours to remove): neither are the folders above it
      }
    }
  }

  /** Writes beside the target, then renames: a reader never sees half a file, a failure leaves none. */
  private async writeWhole(key: string, write: (partial: string) => Promise<void>): Promise<void> {
    const target = this.pathOf(key);
    await mkdir(path.dirname(target), { recursive: true });
    const partial = `${target}.partial-${process.pid}`;
    try {
      await write(partial);
      await rename(partial, target);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  private pathOf(key: string): string {
    assertValidBlobKey(key);
    const resolved = path.resolve(this.root, key);
    // Belt and braces: the key check already forbids it, but never leave the root.
    if (!resolved.startsWith(path.resolve(this.root) + path.sep)) throw new Error(`blob key escapes the store: ${key}`);
    return resolved;
  }
}
