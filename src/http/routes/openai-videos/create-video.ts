import { Readable } from 'node:stream';
import { ApiError, invalidRequest } from '../../../spec/api-error.js';
import type { ApiKeyRecord } from '../../../spec/key-store.js';
import { storeUpload, type UploadPlace } from '../../../media/store-upload.js';
import type { TaskService } from '../../../tasks/task-service.js';
import { type CreateForm, referenceField } from './form-body.js';
import { chooseModel, nativeRequest, referenceUrl, renamed } from './request-mapping.js';

export interface VideoCreation {
  tasks: TaskService;
  /** Where a first frame sent in the request (a file part, a data: URL) is kept, as an upload. */
  uploads: UploadPlace;
}

/**
 * Creates the task of an OpenAI create request through the same `TaskService.submit` as the
 * native API (validation, limits, idempotency), and answers its id. A first frame stored for a
 * request that is then refused is removed again.
 */
export async function createVideoTask(creation: VideoCreation, key: ApiKeyRecord, form: CreateForm, idempotencyKey?: string): Promise<string> {
  const stored = form.file ? [form.file.blobKey] : [];
  try {
    const model = chooseModel(form.fields, form.file !== undefined);
    const reference = form.file ? { url: form.file.url, field: referenceField } : await urlReference(creation.uploads, key, form.fields, stored);
    const { body, renames } = nativeRequest(model, form.fields, form.fromForm, reference);
    try {
      return await creation.tasks.submit(model, key, body, {
        idempotencyKey,
        // The stored frame's URL is new on every try: a retry is recognised by what was sent.
        idempotencyFingerprint: { fields: form.fields, file: form.file?.sha256 ?? null },
      });
    } catch (error) {
      throw error instanceof ApiError ? renamed(error, renames) : error;
    }
  } catch (error) {
    if (stored.length > 0) await creation.uploads.blobs.delete(stored).catch(() => undefined);
    throw error;
  }
}

/** `input_reference.image_url`: an http(s) URL as it is, a data: URL stored as an upload first. */
async function urlReference(place: UploadPlace, key: ApiKeyRecord, fields: Record<string, unknown>, stored: string[]) {
  const url = referenceUrl(fields);
  if (url === undefined) return undefined;
  const field = `${referenceField}.image_url`;
  if (!url.startsWith('data:')) return { url, field };
  const data = /^data:[^,;]*(?:;[^,;]*)*;base64,(.*)$/s.exec(url);
  if (!data) throw invalidRequest(field, `${field}: a data: URL must hold its image in base64 (data:image/png;base64,…)`);
  const upload = await storeUpload(place, key.id, {
    chunks: Readable.from([Buffer.from(data[1], 'base64')]),
    field,
    sentAs: 'a data: URL',
    kinds: ['image'],
  });
  stored.push(upload.blobKey);
  return { url: upload.url, field };
}
