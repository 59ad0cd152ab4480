import multipart from '@fastify/multipart';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { CachedAuthenticator } from '../../../auth/api-keys.js';
import { ApiError, invalidRequest } from '../../../spec/api-error.js';
import type { TaskSnapshot } from '../../../spec/task-store.js';
import { TaskStatus } from '../../../spec/task-status.js';
import type { FfmpegToolchain } from '../../../media/ffmpeg-binaries.js';
import { storeUpload, type UploadPlace } from '../../../media/store-upload.js';
import { stringEnum } from '../../../models/common-fields.js';
import { largestAllowedBytes } from '../../../models/media-limits.js';
import { openAiVideoDeletedSchema, openAiVideoListSchema, openAiVideoSchema } from '../../../models/openai-video-schema.js';
import { validateAgainst } from '../../../models/validate-request.js';
import type { TaskService } from '../../../tasks/task-service.js';
import { sendBlob } from '../../send-blob.js';
import { createVideoTask } from './create-video.js';
import { readForm } from './form-body.js';
import { typedFromText } from './text-values.js';
import { Thumbnails } from './thumbnails.js';
import { openAiVideo } from './video-object.js';

export interface OpenAiVideoRouteOptions {
  tasks: TaskService;
  auth: CachedAuthenticator;
  /** Where a first frame sent with a create request is kept (as `POST /v3/uploads` keeps files). */
  uploads: UploadPlace;
  toolchain: FfmpegToolchain;
  /** The text of a create request, JSON or form fields, is held to this. */
  maxBodyBytes: number;
  /** How long result files are kept after a video completed: what `expires_at` announces. */
  resultRetentionMs: number;
}

/** Far more fields than any model's request has, media lists included. */
const maxFormFields = 100;

const listQuery = Type.Object(
  {
    after: Type.Optional(Type.String({ minLength: 1 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    order: Type.Optional(stringEnum(['asc', 'desc'], { default: 'desc' })),
  },
  { additionalProperties: true },
);

const contentQuery = Type.Object(
  { variant: Type.Optional(stringEnum(['video', 'thumbnail', 'spritesheet'], { default: 'video' })) },
  { additionalProperties: true },
);

/**
 * The OpenAI video API (`/v1/videos`, as the official `openai` SDK calls it with
 * `baseURL: "<server>/v1"`) over the same tasks, keys and storage as the native API: a video is a
 * task, its id the task id. Multipart parsing is registered in this plugin's scope only.
 */
export async function openAiVideoRoutes(app: FastifyInstance, options: OpenAiVideoRouteOptions): Promise<void> {
  const { tasks, auth } = options;
  const thumbnails = new Thumbnails(options.uploads.blobs, options.toolchain, options.uploads.disk);
  const video = async (taskId: string, keyId: string) => openAiVideo(await tasks.ownRecord(taskId, keyId), options.resultRetentionMs);

  await app.register(multipart, {
    limits: {
      fieldNameSize: 200,
      fieldSize: options.maxBodyBytes,
      fields: maxFormFields,
      files: 1,
      parts: maxFormFields + 1,
      // One byte over the cap, so that storeUpload's own check (naming the field) speaks first.
      fileSize: largestAllowedBytes.image + 1,
    },
    throwFileSizeLimit: false,
  });
  app.addContentTypeParser('*', (request, _payload, done) => {
    done(invalidRequest('Content-Type', `Content-Type must be multipart/form-data or application/json, got ${JSON.stringify(request.headers['content-type'])}`));
  });

  app.post('/v1/videos', { schema: { response: { 200: openAiVideoSchema } } }, async (request) => {
    const key = await auth.authenticate(request.headers.authorization);
    const form = request.isMultipart()
      ? await readForm(request, { maxTextBytes: options.maxBodyBytes, maxFields: maxFormFields }, (file) => storeUpload(options.uploads, key.id, file), options.uploads.blobs)
      : { fields: request.body as Record<string, unknown>, fromForm: false };
    const idempotencyKey = request.headers['idempotency-key'];
    const taskId = await createVideoTask({ tasks, uploads: options.uploads }, key, form, typeof idempotencyKey === 'string' ? idempotencyKey : undefined);
    return video(taskId, key.id);
  });

  app.get('/v1/videos', { schema: { response: { 200: openAiVideoListSchema } } }, async (request) => {
    const key = await auth.authenticate(request.headers.authorization);
    const query = validateAgainst(listQuery, typedFromText(request.query, listQuery));
    const page = await tasks.listRecords(key.id, {
      limit: query.limit as number,
      order: query.order === 'asc' ? 'oldest' : 'newest',
      ...(query.after === undefined ? {} : { after: query.after as string }),
    });
    const data = page.tasks.map((task) => openAiVideo(task, options.resultRetentionMs));
    return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: page.next !== undefined };
  });

  app.get('/v1/videos/:video_id', { schema: { response: { 200: openAiVideoSchema } } }, async (request) => {
    const key = await auth.authenticate(request.headers.authorization);
    return video((request.params as { video_id: string }).video_id, key.id);
  });

  // OpenAI deletes only videos that completed or failed; a video in flight is refused (409), not cancelled.
  app.delete('/v1/videos/:video_id', { schema: { response: { 200: openAiVideoDeletedSchema } } }, async (request) => {
    const key = await auth.authenticate(request.headers.authorization);
    const id = (request.params as { video_id: string }).video_id;
    await tasks.delete(id, key.id);
    return { id, object: 'video.deleted', deleted: true };
  });

  app.get('/v1/videos/:video_id/content', async (request, reply) => {
    const key = await auth.authenticate(request.headers.authorization);
    const { variant } = validateAgainst(contentQuery, request.query);
    if (variant === 'spritesheet') {
      throw invalidRequest('variant', 'variant "spritesheet" is not offered by this server: ask for "video" (the MP4) or "thumbnail" (a JPEG frame)', {
        value: variant,
        allowed: ['video', 'thumbnail'],
      });
    }
    const task = await tasks.ownSnapshot((request.params as { video_id: string }).video_id, key.id);
    const videoKey = resultKey(task);
    const blobKey = variant === 'thumbnail' ? await thumbnails.of(task.id, videoKey) : videoKey;
    const sent = await sendBlob(request, reply, options.uploads.blobs, blobKey, 'private, max-age=3600');
    if (!sent) throw new ApiError(404, 'FILE_NOT_FOUND', `the files of video "${task.id}" no longer exist`, { video_id: task.id });
    return reply;
  });
}

/** The video file of a completed video; why there is none otherwise. */
function resultKey(task: TaskSnapshot): string {
  if (task.status === TaskStatus.Queued || task.status === TaskStatus.Processing) {
    throw new ApiError(409, 'TASK_NOT_FINISHED', `video "${task.id}" has not completed yet: its content is there once its status is completed`, {
      video_id: task.id,
    });
  }
  if (task.status === TaskStatus.Failed) {
    throw new ApiError(404, 'FILE_NOT_FOUND', `video "${task.id}" failed and has no content: ${task.error?.message ?? 'no reason recorded'}`, { video_id: task.id });
  }
  if (task.resultsExpiredAt !== null) {
    const when = new Date(task.resultsExpiredAt).toISOString();
    throw new ApiError(404, 'FILE_NOT_FOUND', `the files of video "${task.id}" were removed by retention at ${when}`, { video_id: task.id });
  }
  const [result] = task.results;
  if (!result) throw new ApiError(404, 'FILE_NOT_FOUND', `video "${task.id}" has no video file`, { video_id: task.id });
  return result.key;
}
