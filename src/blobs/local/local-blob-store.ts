import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobReadable, BlobStore } from '../../spec/blob-store.js';
import { contentTypeOfKey, isValidBlobKey } from '../blob-key.js';
import type { UrlSigner } from '../url-signer.js';

/** Where the files route serves blobs. */
const filesPath = '/v3/files/';

/** Blobs as files under one directory, served by this server at signed URLs (`/v3/files/<key>`). */
export class LocalBlobStore implements BlobStore {
  constructor(
    private readonly root: string,
    private readonly signer: UrlSigner,
    /** Resolved lazily: the listening port is known only once the server is up. */
    private readonly baseUrl: () => string,
  ) {}

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

  signedUrl(key: string, expiresAt: number): string {
    const expires = Math.floor(expiresAt / 1000);
    const signature = this.signer.sign(key, expires);
    return `${this.baseUrl()}${filesPath}${key}?expires=${expires}&signature=${signature}`;
  }

  keyOfSignedUrl(url: string, now: number): { key: string; expired: boolean } | undefined {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return undefined;
    }
    if (parsed.origin !== new URL(this.baseUrl()).origin || !parsed.pathname.startsWith(filesPath)) return undefined;
    const key = decodeURIComponent(parsed.pathname.slice(filesPath.length));
    const expires = Number(parsed.searchParams.get('expires'));
    const signature = parsed.searchParams.get('signature');
    if (!isValidBlobKey(key) || !Number.isInteger(expires) || !signature) return undefined;
    const verdict = this.signer.verify(key, expires, signature, now);
    return verdict === 'invalid' ? undefined : { key, expired: verdict === 'expired' };
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
    if (!isValidBlobKey(key)) throw new Error(`invalid blob key ${JSON.stringify(key)}`);
    const resolved = path.resolve(this.root, key);
    // Belt and braces: the key check already forbids it, but never leave the root.
    if (!resolved.startsWith(path.resolve(this.root) + path.sep)) throw new Error(`blob key escapes the store: ${key}`);
    return resolved;
  }
}
