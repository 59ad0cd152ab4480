import { createReadStream } from 'node:fs';
import { copyFile, mkdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import type { BlobReadable, BlobStore } from '../../spec/blob-store.js';
import { contentTypeOfKey, isValidBlobKey } from '../blob-key.js';
import type { UrlSigner } from '../url-signer.js';

/** Blobs as files under one directory, served by this server at signed URLs (`/v3/files/<key>`). */
export class LocalBlobStore implements BlobStore {
  constructor(
    private readonly root: string,
    private readonly signer: UrlSigner,
    /** Resolved lazily: the listening port is known only once the server is up. */
    private readonly baseUrl: () => string,
  ) {}

  async putFile(key: string, sourcePath: string): Promise<void> {
    const target = this.pathOf(key);
    await mkdir(path.dirname(target), { recursive: true });
    // Copy beside the target, then rename: a reader never sees half a file.
    const partial = `${target}.partial-${process.pid}`;
    await copyFile(sourcePath, partial);
    await rename(partial, target);
  }

  signedUrl(key: string, expiresAt: number): string {
    const expires = Math.floor(expiresAt / 1000);
    const signature = this.signer.sign(key, expires);
    return `${this.baseUrl()}/v3/files/${key}?expires=${expires}&signature=${signature}`;
  }

  async open(key: string, range?: { start: number; end?: number }): Promise<BlobReadable | undefined> {
    const file = this.pathOf(key);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) return undefined;
    return {
      stream: createReadStream(file, range),
      size: info.size,
      contentType: contentTypeOfKey(key),
    };
  }

  private pathOf(key: string): string {
    if (!isValidBlobKey(key)) throw new Error(`invalid blob key ${JSON.stringify(key)}`);
    const resolved = path.resolve(this.root, key);
    // Belt and braces: the key check already forbids it, but never leave the root.
    if (!resolved.startsWith(path.resolve(this.root) + path.sep)) throw new Error(`blob key escapes the store: ${key}`);
    return resolved;
  }
}
