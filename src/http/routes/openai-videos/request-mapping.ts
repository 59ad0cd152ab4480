import { Type, type TSchema } from '@sinclair/typebox';
import { ApiError, invalidRequest } from '../../../spec/api-error.js';
import { stringEnum } from '../../../models/common-fields.js';
import { i2v } from '../../../models/i2v.js';
import type { ModelDefinition } from '../../../models/model.js';
import { ratioOptions, sizeOptions, tierOfSize, videoeditRatioSize, type Tier } from '../../../models/output-size.js';
import { models } from '../../../models/registry.js';
import { r2v } from '../../../models/r2v.js';
import { t2v } from '../../../models/t2v.js';
import { validateAgainst } from '../../../models/validate-request.js';
import { referenceField } from './form-body.js';
import { isPlainObject, typedFromText } from './text-values.js';

/**
 * The OpenAI create request read as one of our models' requests. Four fields are OpenAI's
 * (`model`, `seconds`, `size`, `input_reference`); every other field is the model's own and
 * passes as it is. The request built here goes through the very validation of the native API,
 * and a refusal that names a field the client called otherwise is renamed back (`duration` →
 * `seconds`, `resolution` → `size`, `image_url` → `input_reference`).
 */

/** A native field path and the name the client used for it. */
export type Renames = ReadonlyMap<string, string>;

/** Without `model`: image to video when a first frame is given, text to video otherwise. */
const defaultModels = { withReference: i2v.id, withoutReference: t2v.id };

const modelChoice = Type.Object(
  { model: Type.Optional(stringEnum(models.map((model) => model.id))) },
  { additionalProperties: true },
);

export function chooseModel(fields: Record<string, unknown>, hasFile: boolean): ModelDefinition {
  const { model } = validateAgainst(modelChoice, fields);
  const hasReference = hasFile || fields[referenceField] !== undefined;
  const id = (model as string | undefined) ?? (hasReference ? defaultModels.withReference : defaultModels.withoutReference);
  return models.find((candidate) => candidate.id === id) as unknown as ModelDefinition;
}

/** `input_reference` as a JSON value or form fields: `{"image_url": …}` only. */
const referenceObject = Type.Object(
  {
    [referenceField]: Type.Object({ image_url: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
  },
  { additionalProperties: true },
);

/** The image URL an `input_reference` field gives (an http(s) or a data: URL), or undefined without one. */
export function referenceUrl(fields: Record<string, unknown>): string | undefined {
  const reference = fields[referenceField];
  if (reference === undefined) return undefined;
  if (isPlainObject(reference) && reference.file_id !== undefined) {
    throw invalidRequest(
      `${referenceField}.file_id`,
      `${referenceField}.file_id is not supported: files of an OpenAI account are not kept here; send the image as the ` +
        `${referenceField} file or as ${referenceField}.image_url`,
    );
  }
  return (validateAgainst(referenceObject, fields)[referenceField] as { image_url: string }).image_url;
}

/**
 * How `size` (`1280x720`) reads for a model, from what its schema offers: an exact `size`
 * (t2v, r2v); a resolution tier, the picture following the input's aspect ratio (i2v); or the
 * tier and a `ratio` of its own table (videoedit).
 */
function sizeTable(model: ModelDefinition): Map<string, Record<string, string>> {
  const offers = (name: string) => name in model.schema.properties;
  const table = new Map<string, Record<string, string>>();
  if (offers('size')) {
    for (const size of sizeOptions) table.set(openAiSize(size), { size });
  } else if (offers('ratio')) {
    for (const tier of ['720P', '1080P'] as const satisfies readonly Tier[]) {
      for (const ratio of ratioOptions) {
        const { width, height } = videoeditRatioSize(tier, ratio);
        table.set(`${width}x${height}`, { resolution: tier, ratio });
      }
    }
  } else if (offers('resolution')) {
    for (const size of sizeOptions) table.set(openAiSize(size), { resolution: tierOfSize(size) });
  }
  return table;
}

/** `1280*720` as OpenAI writes it: `1280x720`. */
export function openAiSize(size: string): string {
  return size.replace('*', 'x');
}

export interface NativeRequest {
  body: Record<string, unknown>;
  renames: Renames;
}

/**
 * The model's request from the OpenAI fields and the model's own. `reference` is the URL of the
 * first frame (an uploaded file's, or `input_reference.image_url`) and the field the client gave
 * it in.
 */
export function nativeRequest(
  model: ModelDefinition,
  fields: Record<string, unknown>,
  fromForm: boolean,
  reference: { url: string; field: string } | undefined,
): NativeRequest {
  const { model: _model, seconds, size, [referenceField]: _reference, ...own } = fields;
  const body = fromForm ? (typedFromText(own, model.schema) as Record<string, unknown>) : { ...own };
  const renames = new Map<string, string>();
  const take = (nativeField: string, value: unknown, openAiField: string) => {
    if (nativeField in body) {
      throw invalidRequest(openAiField, `${openAiField} and ${nativeField} set the same thing: send one of them`, {
        fields: [openAiField, nativeField],
      });
    }
    body[nativeField] = value;
    if (nativeField !== openAiField) renames.set(nativeField, openAiField);
  };

  if (seconds !== undefined) take('duration', typeof seconds === 'string' && /^\d+$/.test(seconds) ? Number(seconds) : seconds, 'seconds');
  if (size !== undefined) {
    const table = sizeTable(model);
    const written = typeof size === 'string' && /^\d+\*\d+$/.test(size) ? openAiSize(size) : size;
    validateAgainst(Type.Object({ size: stringEnum([...table.keys()]) }), { size: written });
    for (const [nativeField, value] of Object.entries(table.get(written as string)!)) take(nativeField, value, 'size');
  }
  if (reference) placeReference(model, body, reference, take, renames);
  return { body, renames };
}

/** The first frame where the model takes one: i2v's `image_url`, or an r2v `media` item of type `first_frame`. */
function placeReference(
  model: ModelDefinition,
  body: Record<string, unknown>,
  reference: { url: string; field: string },
  take: (nativeField: string, value: unknown, openAiField: string) => void,
  renames: Map<string, string>,
): void {
  const properties = model.schema.properties as Record<string, TSchema>;
  if ('image_url' in properties) {
    take('image_url', reference.url, reference.field);
  } else if ('media' in properties) {
    const media = body.media === undefined ? [] : body.media;
    if (!Array.isArray(media)) return; // refused by validation, which names `media`
    renames.set(`media[${media.length}].url`, reference.field);
    body.media = [...media, { type: 'first_frame', url: reference.url }];
  } else {
    throw invalidRequest(
      reference.field,
      `${reference.field}: ${model.id} takes no first frame; use ${i2v.id} (a video from the image) or ${r2v.id} (a first_frame item)`,
    );
  }
}

/** A refusal of the native request, in the names the client used. */
export function renamed(error: ApiError, renames: Renames): ApiError {
  const field = error.metadata.field;
  const openAiName = typeof field === 'string' ? renames.get(field) : undefined;
  const problems = error.metadata.errors as { field: string; message: string }[] | undefined;
  if (openAiName === undefined && !problems?.some((problem) => renames.has(problem.field))) return error;
  const rename = (name: string, message: string) => {
    const to = renames.get(name);
    return to !== undefined && message.startsWith(name) ? to + message.slice(name.length) : message;
  };
  return new ApiError(
    error.status,
    error.reason,
    typeof field === 'string' ? rename(field, error.message) : error.message,
    {
      ...error.metadata,
      ...(openAiName === undefined ? {} : { field: openAiName }),
      ...(problems ? { errors: problems.map((problem) => ({ field: renames.get(problem.field) ?? problem.field, message: rename(problem.field, problem.message) })) } : {}),
    },
    error.retryable,
    error.retryAfterSeconds,
  );
}
