/**
 * `wan-api/client/node`: everything of `wan-api/client`, plus what needs a file system. `download` streams a result video to a file;
 * `uploadFile` uploads a local file with `WanClient.upload`.
 */
import { createWriteStream } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { type RequestOptions, WanClient } from './client.js';
import { contentTypeOfName } from '../models/media-formats.js';
import { WanApiError } from './errors.js';
import type { TaskResult } from './types.js';

export interface DownloadOptions extends RequestOptions {
  /** Which video of the result; 0 by default. */
  index?: number;
  /** Called as bytes arrive, with the total when the server says it. */
  onBytes?: (received: number, total: number | undefined) => void;
}

/**
 * Streams a result's video (or any URL) to `file`: written to `file.partial` first and renamed
 * when complete, so `file` never holds half a video. Answers the number of bytes written.
 */
export async function download(
  client: WanClient,
  result: TaskResult | string,
  file: string,
  options: DownloadOptions = {},
): Promise<number> {
  const url = typeof result === 'string' ? result : result.videos[options.index ?? 0]?.video_url;
  if (!url) {
    throw new WanApiError({
      kind: 'http',
      status: 0,
      reason: 'NO_VIDEO',
      message: `the task result has no video${typeof result === 'string' ? '' : ` (status ${result.task.status})`}`,
    });
  }
  const response = await client.fetchFile(url, options);
  if (!response.body) throw new WanApiError({ kind: 'http', status: response.status, reason: 'INVALID_RESPONSE', message: `no body from ${url}` });
  const totalHeader = response.headers.get('content-length');
  const total = totalHeader === null ? undefined : Number(totalHeader);
  const partial = `${file}.partial`;
  let received = 0;
  const body = Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => {
    received += chunk.length;
    options.onBytes?.(received, total);
  });
  try {
    await pipeline(body, createWriteStream(partial), { signal: options.signal });
  } catch (error) {
    await rm(partial, { force: true });
    if (options.signal?.aborted) {
      throw new WanApiError({ kind: 'aborted', status: 0, reason: 'ABORTED', message: 'the download was aborted', cause: error });
    }
    throw new WanApiError({ kind: 'network', status: 0, reason: 'NETWORK_ERROR', message: `downloading ${url} failed: ${(error as Error).message}`, cause: error });
  }
  if (total !== undefined && received !== total) {
    await rm(partial, { force: true });
    throw new WanApiError({ kind: 'network', status: 0, reason: 'NETWORK_ERROR', message: `downloading ${url}: got ${received} of ${total} bytes` });
  }
  await rename(partial, file);
  return received;
}

/** Uploads a local file (`POST /v3/uploads`) and answers its URL. */
export async function uploadFile(client: WanClient, file: string, options: RequestOptions = {}): Promise<string> {
  const bytes = await readFile(file);
  return client.upload(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
    ...options,
    name: path.basename(file),
    contentType: contentTypeOfName(file),
  });
}

/** A WanClient with the file-system helpers as methods: `download(result, file)`, `uploadFile(file)`. */
export class NodeWanClient extends WanClient {
  /** Streams the result's video to `file`; answers the bytes written. */
  download(result: TaskResult | string, file: string, options: DownloadOptions = {}): Promise<number> {
    return download(this, result, file, options);
  }

  /** Uploads a local file (`POST /v3/uploads`); answers its URL. */
  uploadFile(file: string, options: RequestOptions = {}): Promise<string> {
    return uploadFile(this, file, options);
  }
}

export * from './index.js';
