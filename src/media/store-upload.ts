import { fileTypeFromBuffer } from 'file-type';
import { v7 as uuidv7 } from 'uuid';
import { ApiError, errors, invalidRequest } from '../spec/api-error.js';
import type { BlobStore } from '../spec/blob-store.js';
import type { DiskState } from '../spec/disk-state.js';
import { isDiskError } from '../spec/storage-errors.js';
import type { UploadStore } from '../spec/upload-store.js';
import { contentTypeOfName, describeAcceptedFormats, kindOfFormat } from '../models/media-formats.js';
import { largestAllowedBytes, megabyte } from '../models/media-limits.js';
import type { MediaKind } from '../models/model.js';
import { describeBytes, mediaReason } from './media-limit-check.js';
import { uploadUrlHash } from './own-uploads.js';
import { storedUploadName } from './stored-upload-name.js';
import { uploadKeyPrefix } from './uploaded-media-source.js';

/** Where uploads go and how long their URLs work. */
export interface UploadPlace {
  blobs: BlobStore;
  /** Where each upload is recorded, so tasks that name its URL read it by key. */
  uploads: UploadStore;
  urlTtlSeconds: number;
  /** Room on the server's disk: an upload is refused before it could fill it. */
  disk?: DiskState;
  clock: () => number;
}

/** A file as a client sends it. */
export interface IncomingFile {
  /** The bytes as they arrive. */
  chunks: AsyncIterable<Buffer>;
  /** What errors name: `body` for a raw upload, the form field otherwise. */
  field: string;
  /** How the file is sent, for the message about an empty one ("the request body"). */
  sentAs: string;
  /** The client's name for the file: kept, made safe, in the key. */
  name?: string;
  /** The size the client announced (Content-Length): a file announced too large is refused unread. */
  declaredLength?: number;
  /** The kinds of media taken here; all by default. */
  kinds?: readonly MediaKind[];
}

export interface StoredUpload {
  /** A URL of the file that any request may name: tasks read it from the store, not the network. */
  url: string;
  blobKey: string;
  contentType: string;
  sizeBytes: number;
  kind: MediaKind;
}

/** file-type needs this much of the start of a file to tell every format the API takes. */
const detectionBytes = 4100;
const allKinds: readonly MediaKind[] = ['image', 'video', 'audio'];

/**
 * Stores a file a client sends and records it as an upload of `keyId`. Its format is read from its
 * first bytes (never from a Content-Type or the name) and sets the cap, the largest any field of
 * that kind accepts, counted while the file streams into the blob store.
 */
export async function storeUpload(place: UploadPlace, keyId: string, file: IncomingFile): Promise<StoredUpload> {
  const kinds = file.kinds ?? allKinds;
  const declared = file.declaredLength ?? Number.NaN;
  const largest = Math.max(...kinds.map((kind) => largestAllowedBytes[kind]));
  if (declared > largest) throw tooLarge(file.field, undefined, declared, largest);

  const chunks = file.chunks[Symbol.asyncIterator]();
  const head = await readHead(chunks, file);
  const detected = await fileTypeFromBuffer(head);
  const kind = detected && kindOfFormat(detected.ext);
  if (!detected || !kind || !kinds.includes(kind)) {
    throw invalidRequest(
      file.field,
      `${file.field}: the upload is ${detected ? detected.ext.toUpperCase() : 'of no recognised media format'}; accepted: ${describeAcceptedFormats(kinds)}`,
      { value: detected?.ext ?? 'unknown' },
    );
  }
  const cap = largestAllowedBytes[kind];
  if (declared > cap) throw tooLarge(file.field, kind, declared, cap);

  const uploadId = uuidv7();
  const blobKey = `${uploadKeyPrefix}${uploadId}/${storedUploadName(file.name, detected.ext)}`;
  const contentType = contentTypeOfName(blobKey);
  // Room for the whole file, as declared or as large as its kind may be, is set aside first.
  const release = place.disk?.reserve(declared >= 0 ? declared : cap);
  if (place.disk && !release) throw errors.storageFull(place.disk.problem() ?? 'the disk has no room for this upload');
  let sizeBytes: number;
  try {
    sizeBytes = await place.blobs.putStream(blobKey, capped(head, chunks, file.field, kind, cap), contentType);
  } catch (error) {
    if (!isDiskError(error)) throw error;
    place.disk?.reportFailure(error);
    throw errors.storageFull((error as Error).message);
  } finally {
    release?.();
  }
  const now = place.clock();
  const expiresAt = now + place.urlTtlSeconds * 1000;
  const url = await place.blobs.url(blobKey, expiresAt);
  await place.uploads.recordUpload({ id: uploadId, keyId, blobKey, contentType, sizeBytes, urlHash: uploadUrlHash(url), createdAt: now, expiresAt });
  return { url, blobKey, contentType, sizeBytes, kind };
}

async function readHead(chunks: AsyncIterator<Buffer>, file: IncomingFile): Promise<Buffer> {
  const read: Buffer[] = [];
  let length = 0;
  while (length < detectionBytes) {
    const next = await chunks.next();
    if (next.done) break;
    read.push(next.value);
    length += next.value.length;
  }
  if (length === 0) throw invalidRequest(file.field, `${file.field}: the upload is empty: send the file as ${file.sentAs}`);
  return Buffer.concat(read);
}

/** The head already read, then the rest, stopped the moment the cap is passed. */
async function* capped(head: Buffer, rest: AsyncIterator<Buffer>, field: string, kind: MediaKind, cap: number): AsyncGenerator<Buffer> {
  let total = head.length;
  if (total > cap) throw tooLarge(field, kind, total, cap);
  yield head;
  for (let next = await rest.next(); !next.done; next = await rest.next()) {
    total += next.value.length;
    if (total > cap) throw tooLarge(field, kind, total, cap);
    yield next.value;
  }
}

function tooLarge(field: string, kind: MediaKind | undefined, bytes: number, cap: number): ApiError {
  const what = kind ? `an ${kind === 'image' ? 'image' : kind === 'video' ? 'video' : 'audio file'}` : 'any upload';
  const found = kind ? `at least ${describeBytes(bytes)}` : describeBytes(bytes);
  return new ApiError(
    400,
    kind ? mediaReason(kind, 'fileSize') : 'INVALID_REQUEST_BODY',
    `${field}: the upload is ${found}; the limit for ${what} is ${cap / megabyte} MB`,
    { field, value: bytes, limit: cap },
  );
}
