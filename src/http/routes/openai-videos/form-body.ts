import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Multipart } from '@fastify/multipart';
import { ApiError, invalidRequest } from '../../../spec/api-error.js';
import type { BlobStore } from '../../../spec/blob-store.js';
import { untilBodyDeadline } from '../../body-deadline.js';
import type { IncomingFile, StoredUpload } from '../../../media/store-upload.js';
import { isPlainObject } from './text-values.js';

/** The create request as it arrived, before it is read as a model's request. */
export interface CreateForm {
  /** JSON values, or the text fields of a multipart form nested by their bracketed names. */
  fields: Record<string, unknown>;
  /** Whether the fields are a form's text, to be read by the types of the model's schema. */
  fromForm: boolean;
  /** The `input_reference` file part, stored as an upload while it arrived, with its SHA-256. */
  file?: StoredUpload & { sha256: string };
}

/** The one field that may be a file: the image the video starts from. */
export const referenceField = 'input_reference';

/** Limits of a multipart create request; its file is capped by storeUpload, by the format found. */
export interface FormLimits {
  /** The text fields together, as a JSON body is held to `max_body_bytes`. */
  maxTextBytes: number;
  maxFields: number;
}

/** Names that would reach an object's prototype if a form could set them. */
const forbiddenNames = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Reads a multipart create request as the official SDK sends it: text fields (nested objects as
 * `input_reference[image_url]`, lists as `name[]` or `name[0]`) and the `input_reference` file,
 * streamed into an upload as it arrives, never held whole in memory. A request that fails after
 * the file was stored removes it again.
 */
export async function readForm(
  request: FastifyRequest,
  limits: FormLimits,
  store: (file: IncomingFile) => Promise<StoredUpload>,
  blobs: BlobStore,
): Promise<CreateForm> {
  const fields: Record<string, unknown> = {};
  let file: CreateForm['file'];
  let textBytes = 0;
  const readParts = async () => {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        file = await storeFilePart(part, store);
        continue;
      }
      if (part.fieldnameTruncated) throw invalidRequest('body', `a form field name is too long: ${JSON.stringify(part.fieldname)}…`);
      const text = typeof part.value === 'string' ? part.value : JSON.stringify(part.value);
      textBytes += Buffer.byteLength(part.fieldname) + Buffer.byteLength(text);
      if (part.valueTruncated || textBytes > limits.maxTextBytes) {
        throw invalidRequest(part.fieldname, `the text fields of the form exceed the limit of ${limits.maxTextBytes} bytes (at ${part.fieldname})`, {
          limit_bytes: limits.maxTextBytes,
        });
      }
      setField(fields, part.fieldname, part.value, limits.maxFields);
    }
  };
  try {
    await untilBodyDeadline(request, readParts());
  } catch (error) {
    if (file) await blobs.delete([file.blobKey]).catch(() => undefined);
    throw formError(error, limits);
  }
  if (file && referenceField in fields) {
    await blobs.delete([file.blobKey]).catch(() => undefined);
    throw invalidRequest(referenceField, `${referenceField} is sent both as a file and as a field: send one of them`);
  }
  return { fields, fromForm: true, ...(file ? { file } : {}) };
}

async function storeFilePart(part: Extract<Multipart, { type: 'file' }>, store: (file: IncomingFile) => Promise<StoredUpload>) {
  if (part.fieldname !== referenceField) {
    part.file.resume();
    throw invalidRequest(part.fieldname, `${part.fieldname} cannot be a file: only ${referenceField} (the first frame) may be uploaded`);
  }
  const hash = createHash('sha256');
  try {
    const upload = await store({
      chunks: hashed(part.file, hash),
      field: referenceField,
      sentAs: `the ${referenceField} file`,
      name: part.filename,
      kinds: ['image'],
    });
    return { ...upload, sha256: hash.digest('hex') };
  } catch (error) {
    // The rest of a refused file is read and dropped, so the answer reaches a client still sending it.
    part.file.resume();
    throw error;
  }
}

async function* hashed(chunks: AsyncIterable<Buffer>, hash: ReturnType<typeof createHash>): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    hash.update(chunk);
    yield chunk;
  }
}

/** The limit errors of the multipart parser, and a malformed form, as the API's own refusals. */
function formError(error: unknown, limits: FormLimits): unknown {
  if (error instanceof ApiError) return error;
  const code = (error as { code?: string }).code;
  switch (code) {
    case 'FST_FILES_LIMIT':
      return invalidRequest(referenceField, `the form holds more than one file: only one ${referenceField} may be uploaded`, { limit: 1 });
    case 'FST_FIELDS_LIMIT':
    case 'FST_PARTS_LIMIT':
      return invalidRequest('body', `the form holds more than ${limits.maxFields} fields`, { limit: limits.maxFields });
    case 'FST_PROTO_VIOLATION':
      return invalidRequest('body', 'a form field name is not allowed (a name of the object prototype)');
    case 'FST_INVALID_JSON_FIELD_ERROR':
      return invalidRequest('body', 'a form field declared as application/json is not valid JSON');
  }
  // busboy's own complaints about the framing: a missing boundary, a body cut short.
  if (error instanceof Error && !(error as { statusCode?: number }).statusCode && /multipart|boundary|unexpected end/i.test(error.message)) {
    return invalidRequest('body', `the multipart body cannot be read: ${error.message}`);
  }
  return error;
}

/**
 * Puts a form value where its bracketed name says: `a[b]` is a field of object `a`, `a[0]` an
 * item of list `a`, and `a[][b]` starts a new item of `a` whenever the last one already has `b`
 * (the convention of Rack and PHP, and what the SDK writes for a list of objects).
 */
export function setField(fields: Record<string, unknown>, name: string, value: unknown, maxItems: number): void {
  const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(name);
  if (!match) throw invalidRequest(name, `the form field name ${JSON.stringify(name)} is not of the form name, name[key] or name[]`);
  const path = [match[1], ...[...match[2].matchAll(/\[([^[\]]*)\]/g)].map((segment) => segment[1])];
  const forbidden = path.find((segment) => forbiddenNames.has(segment));
  if (forbidden !== undefined) throw invalidRequest(name, `the form field name ${JSON.stringify(name)} may not contain "${forbidden}"`);
  place(fields, path, value, name, maxItems);
}

function place(container: Record<string, unknown> | unknown[], path: string[], value: unknown, name: string, maxItems: number): void {
  const [segment, ...rest] = path;
  if (Array.isArray(container)) {
    if (segment !== '' && !/^\d+$/.test(segment)) throw mixed(name);
    let index = segment === '' ? container.length : Number(segment);
    if (segment === '' && rest.length > 0 && container.length > 0 && !has(container[container.length - 1], rest)) index = container.length - 1;
    if (index >= maxItems) throw invalidRequest(name, `${name}: a list in a form may hold at most ${maxItems} items`, { limit: maxItems });
    if (rest.length === 0) {
      if (container[index] !== undefined) throw twice(name);
      container[index] = value;
      return;
    }
    container[index] ??= emptyFor(rest[0]);
    const child = container[index];
    if (!isContainer(child)) throw mixed(name);
    place(child, rest, value, name, maxItems);
    return;
  }
  if (segment === '') throw mixed(name);
  if (rest.length === 0) {
    if (Object.hasOwn(container, segment)) throw twice(name);
    container[segment] = value;
    return;
  }
  if (!Object.hasOwn(container, segment)) container[segment] = emptyFor(rest[0]);
  const child = container[segment];
  if (!isContainer(child)) throw mixed(name);
  place(child, rest, value, name, maxItems);
}

/** Whether the value already holds something at `path` (list segments end the look). */
function has(value: unknown, path: string[]): boolean {
  let current = value;
  for (const segment of path) {
    if (segment === '' || !isPlainObject(current)) return true;
    if (!Object.hasOwn(current, segment)) return false;
    current = current[segment];
  }
  return true;
}

function emptyFor(nextSegment: string): Record<string, unknown> | unknown[] {
  return nextSegment === '' || /^\d+$/.test(nextSegment) ? [] : {};
}

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  return Array.isArray(value) || isPlainObject(value);
}

function twice(name: string): ApiError {
  return invalidRequest(name, `${name} is sent more than once`);
}

function mixed(name: string): ApiError {
  return invalidRequest(name, `${name} is sent both as a value and as a list or object`);
}
