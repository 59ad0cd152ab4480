import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../spec/api-error.js';
import type { BlobStore } from '../spec/blob-store.js';

/**
 * Answers a blob of the store with its type and size, or the one byte range the request asks for
 * (206), so a player can seek in a video without downloading it whole. Answers false, having
 * sent nothing, when the blob does not exist: the caller says why in its own words. (A boolean, not
 * the reply: a reply is a thenable, which an async function would wait on and answer undefined.)
 */
export async function sendBlob(
  request: FastifyRequest,
  reply: FastifyReply,
  blobs: BlobStore,
  key: string,
  cacheControl: string,
): Promise<boolean> {
  const info = await blobs.head(key);
  if (!info) return false;
  const range = parseRange(request.headers.range, info.size);
  if (range === 'unsatisfiable') {
    reply.header('accept-ranges', 'bytes').header('content-range', `bytes */${info.size}`);
    const asked = String(request.headers.range).slice(0, 100);
    throw new ApiError(416, 'RANGE_NOT_SATISFIABLE', `the range ${JSON.stringify(asked)} selects no byte of the file, which has ${info.size} bytes`, {
      field: 'Range',
      value: asked,
      size_bytes: info.size,
    });
  }
  const blob = await blobs.open(key, range);
  if (!blob) return false;
  reply.header('accept-ranges', 'bytes').header('content-type', blob.contentType).header('cache-control', cacheControl);
  if (!range) {
    reply.header('content-length', blob.size).send(blob.stream);
  } else {
    reply
      .code(206)
      .header('content-range', `bytes ${range.start}-${range.end}/${blob.size}`)
      .header('content-length', range.end - range.start + 1)
      .send(blob.stream);
  }
  return true;
}

/** One `bytes=` range (the form players send); several ranges are answered with the whole file. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const match = header && /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const start = match[1] === '' ? Math.max(0, size - Number(match[2])) : Number(match[1]);
  const end = match[1] === '' || match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  return start > end || start >= size ? 'unsatisfiable' : { start, end };
}
