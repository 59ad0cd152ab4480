import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiError } from '../spec/api-error.js';
import type { LocalMedia } from '../spec/engine.js';
import type { MediaReference } from '../models/model.js';
import type { MediaFetcher } from './media-fetcher.js';

/**
 * A plain http(s) download of each input, streamed to disk. It applies no network policy and
 * no media limits: it is the simple fetcher of the embedded default until the guarded one
 * replaces it.
 */
export class PlainMediaFetcher implements MediaFetcher {
  constructor(private readonly fetchImplementation: typeof fetch = fetch) {}

  async fetchAll(references: MediaReference[], directory: string, signal: AbortSignal): Promise<Record<string, LocalMedia>> {
    const downloads = new Map<string, Promise<string>>();
    const media: Record<string, LocalMedia> = {};
    for (const reference of references) {
      let download = downloads.get(reference.url);
      if (!download) {
        download = this.download(reference, path.join(directory, `input-${downloads.size}`), signal);
        downloads.set(reference.url, download);
      }
      media[reference.field] = { ...reference, path: await download };
    }
    return media;
  }

  private async download(reference: MediaReference, file: string, signal: AbortSignal): Promise<string> {
    const failed = (why: string) =>
      new ApiError(400, 'MEDIA_DOWNLOAD_FAILED', `${reference.field}: cannot download ${reference.url}: ${why}`, {
        field: reference.field,
        url: reference.url,
      });
    let response: Response;
    try {
      response = await this.fetchImplementation(reference.url, { signal, redirect: 'follow' });
    } catch (error) {
      if (signal.aborted) throw error;
      // fetch says only "fetch failed"; the cause says why (refused, unknown host, TLS …).
      const cause = (error as Error).cause as Error | undefined;
      throw failed(cause?.message ?? (error as Error).message);
    }
    if (!response.ok || !response.body) throw failed(`the server answered HTTP ${response.status}`);
    await pipeline(Readable.fromWeb(response.body as never), createWriteStream(file), { signal });
    return file;
  }
}
