import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { stringEnum } from './common-fields.js';
import { models } from './registry.js';

/**
 * The shapes of the OpenAI-compatible video API (`/v1/videos`), as the official `openai` SDK
 * reads them: the Video object, the list page, the deletion answer and the error body. The same
 * schemas type the routes' answers and describe them in the OpenAPI document.
 */

export const openAiVideoStatuses = ['queued', 'in_progress', 'completed', 'failed'] as const;

function nullable<T extends TSchema>(schema: T, description: string) {
  return Type.Union([schema, Type.Null()], { description });
}

export const openAiVideoSchema = Type.Object(
  {
    id: Type.String({ description: 'The video id: the task id of the native API, where the same task can be read too.' }),
    object: Type.Literal('video'),
    model: Type.String({ description: 'The model id, e.g. wan2.7-t2v.' }),
    status: stringEnum(openAiVideoStatuses),
    progress: Type.Integer({ minimum: 0, maximum: 100, description: 'Approximate completion percentage.' }),
    created_at: Type.Integer({ description: 'Unix time (seconds) the video was asked for.' }),
    completed_at: nullable(Type.Integer(), 'Unix time (seconds) it completed or failed; null before.'),
    expires_at: nullable(Type.Integer(), 'Unix time (seconds) its files are due to be removed; null until it completed.'),
    seconds: Type.String({ description: 'Length of the video in seconds, as a string.' }),
    size: Type.String({ description: 'Width x height, e.g. 1280x720.' }),
    prompt: nullable(Type.String(), 'The prompt, or null for a request without one.'),
    remixed_from_video_id: Type.Null({ description: 'Always null: remixes are not offered.' }),
    error: nullable(
      Type.Object({
        code: Type.String({ description: 'The reason of the native API in lower case, e.g. media_download_failed.' }),
        message: Type.String(),
      }),
      'Why the video failed; null unless status is failed.',
    ),
  },
  { additionalProperties: true },
);

export type OpenAiVideo = Static<typeof openAiVideoSchema>;
export type OpenAiVideoStatus = (typeof openAiVideoStatuses)[number];

export const openAiVideoListSchema = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(openAiVideoSchema),
  first_id: nullable(Type.String(), 'Id of the first video of the page; null for an empty page.'),
  last_id: nullable(Type.String(), 'Id of the last video of the page: the `after` of the next page.'),
  has_more: Type.Boolean(),
});

export const openAiVideoDeletedSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('video.deleted'),
  deleted: Type.Boolean(),
});

export const openAiErrorBodySchema = Type.Object({
  error: Type.Object({
    message: Type.String({ description: 'What went wrong, naming the field, the value and the rule.' }),
    type: Type.String({ description: 'invalid_request_error, authentication_error, rate_limit_error or server_error.' }),
    param: nullable(Type.String(), 'The request field at fault, when there is one.'),
    code: Type.String({ description: 'The reason of the native API in lower case, e.g. invalid_request_body.' }),
  }),
});

/** The create request as documented; the route reads it from JSON or multipart/form-data. */
export const openAiVideoCreateSchema = Type.Object(
  {
    model: Type.Optional(
      stringEnum(
        models.map((model) => model.id),
        { description: 'The model. Default: wan2.7-i2v with an input_reference, wan2.7-t2v without.' },
      ),
    ),
    prompt: Type.Optional(Type.String({ description: "The model's prompt." })),
    seconds: Type.Optional(
      Type.String({ pattern: '^[0-9]+$', description: "Length in whole seconds, as a string (the model's duration). Default: the model's." }),
    ),
    size: Type.Optional(
      Type.String({
        pattern: '^[0-9]+x[0-9]+$',
        description:
          "Width x height, from the model's size table (1280x720, 720x1280, 960x960 …). t2v and r2v render it " +
          'exactly; for i2v it picks the resolution tier (the picture keeps the input\'s aspect ratio), for ' +
          'videoedit the tier and the ratio.',
      }),
    ),
    input_reference: Type.Optional(
      Type.Unsafe<unknown>({
        description:
          'An image as a file part (multipart), or {"image_url": "https://…" or a data: URL}: the first frame ' +
          '(i2v image_url; r2v a media item of type first_frame).',
      }),
    ),
  },
  {
    additionalProperties: true,
    description: "Any other field of the model's own request (negative_prompt, seed, watermark, resolution, media …) is taken as is.",
  },
);
