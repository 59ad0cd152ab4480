import { Type, type SchemaOptions, type TProperties, type TUnsafe } from '@sinclair/typebox';
import type { MediaLimits } from './media-limits.js';
import type { MediaReference } from './model.js';
import { sizeOptions, type Tier } from './output-size.js';

/**
 * Request fields that several Wan 2.7 models share, with the wording of their pages; each model
 * file picks from here so that one rule or description is never written twice.
 */

/** Longest media URL accepted: far beyond any real signed URL, well short of an abusive body. */
const maxUrlLength = 4096;

/**
 * A string enumeration as a plain JSON Schema `enum`. TypeBox's union of literals would be an
 * `anyOf` of `const`s, whose validation errors cannot be turned into one clear message.
 */
export function stringEnum<const Values extends readonly string[]>(
  values: Values,
  options: SchemaOptions = {},
): TUnsafe<Values[number]> {
  return Type.Unsafe<Values[number]>({ ...options, type: 'string', enum: [...values] });
}

/**
 * A URL of input media that the server downloads. `format: "uri"` is checked by validation as
 * "an absolute http(s) URL"; the pattern says the same to readers of the OpenAPI document. A
 * scheme is case-insensitive (`HTTP://` is http), and JSON Schema patterns have no flags.
 */
export function mediaUrlField(description: string) {
  return Type.String({ format: 'uri', pattern: '^[Hh][Tt][Tt][Pp][Ss]?://', maxLength: maxUrlLength, description });
}

export function promptField(description: string, maxLength?: number) {
  return Type.String(maxLength === undefined ? { description } : { maxLength, description });
}

export function durationField(range: { minimum: number; maximum: number; default: number }, description: string) {
  return Type.Optional(Type.Integer({ ...range, description }));
}

export function resolutionField(description: string) {
  const tiers: readonly Tier[] = ['720P', '1080P'];
  return Type.Optional(stringEnum(tiers, { default: '1080P', description }));
}

export const negativePromptField = Type.Optional(
  Type.String({
    maxLength: 500,
    description:
      'Negative prompt describing undesired content in the video. Supports Chinese and English, max 500 characters.',
  }),
);

/** t2v and r2v name an exact output size; see output-size.ts for how it is rendered. */
export const sizeField = Type.Optional(
  stringEnum(sizeOptions, {
    default: '1920*1080',
    description:
      'Output video resolution (width*height), affects pricing. ' +
      '720P: 1280*720 (16:9), 720*1280 (9:16), 960*960 (1:1), 1088*832 (4:3), 832*1088 (3:4). ' +
      '1080P: 1920*1080 (16:9), 1080*1920 (9:16), 1440*1440 (1:1), 1632*1248 (4:3), 1248*1632 (3:4).',
  }),
);

export const promptExtendField = Type.Optional(
  Type.Boolean({
    default: true,
    description:
      'Enable intelligent prompt rewriting using a language model. Improves generation quality for short prompts ' +
      'but increases processing time.',
  }),
);

export const watermarkField = Type.Optional(
  Type.Boolean({ default: false, description: 'Add watermark to the output video (bottom-right corner).' }),
);

export const seedField = Type.Optional(
  Type.Integer({
    minimum: 0,
    maximum: 2147483647,
    description: 'Random seed for improving reproducibility. Range: [0, 2147483647].',
  }),
);

/**
 * Where a task's end is announced (see docs/webhooks.md). Its fields are checked like the model's,
 * so a malformed webhook is refused by name rather than silently never called.
 */
const webhookField = Type.Object(
  {
    url: Type.String({
      format: 'uri',
      pattern: '^https?://',
      maxLength: maxUrlLength,
      description:
        'When the task ends, `{"event_type": "ASYNC_TASK_RESULT", "payload": <its Task Result>}` is POSTed here, ' +
        'signed per Standard Webhooks, and retried until a 2xx. Loopback, private and link-local addresses are refused.',
    }),
    test_mode: Type.Optional(
      Type.Object(
        {
          enabled: Type.Boolean({ description: 'true: the task is not run; a mock event of `return_task_status` is sent at once.' }),
          return_task_status: Type.Optional(
            stringEnum(['TASK_STATUS_SUCCEED', 'TASK_STATUS_FAILED'] as const, {
              default: 'TASK_STATUS_SUCCEED',
              description: 'The status of the mock event.',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** Open to other keys on purpose: it carries options of the platform, not of the model. */
const extraField = Type.Optional(
  Type.Object(
    { webhook: Type.Optional(webhookField) },
    {
      additionalProperties: true,
      description:
        'Options of the platform rather than of the model. ' +
        '`webhook: {"url": "https://…"}` asks for the Task Result to be POSTed there when the task ends.',
    },
  ),
);

/**
 * The body of a create-task request: the model's fields plus `extra`. Any other field is refused,
 * because a misspelt parameter would otherwise be silently ignored on a paid generation.
 */
export function requestBodySchema<Properties extends TProperties>(properties: Properties, description: string) {
  return Type.Object({ ...properties, extra: extraField }, { additionalProperties: false, description });
}

/**
 * The media URLs present in a request. `fields` lists, in body order, each top-level field that
 * may hold a URL and the kind of media it points at.
 */
export function mediaReferencesOf<Request extends object>(
  request: Request,
  fields: readonly (readonly [field: keyof Request & string, limits: MediaLimits])[],
): MediaReference[] {
  return fields.flatMap(([field, limits]) => {
    const url = request[field];
    return typeof url === 'string' ? [{ field, url, kind: limits.kind, limits }] : [];
  });
}
