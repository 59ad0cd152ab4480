import type { TObject } from '@sinclair/typebox';
import type { MediaKind } from './media-formats.js';
import type { MediaLimits } from './media-limits.js';
import type { models } from './registry.js';

export type { MediaKind };

/**
 * What every Wan 2.7 model declares about itself. Each model lives in one file of this folder;
 * its TypeBox schema is the single source of the request's validation, its TypeScript type and
 * its OpenAPI description.
 */
/** The id of a model the registry serves (`wan2.7-t2v` …): each is written once, in its model's file. */
export type ModelId = (typeof models)[number]['id'];


/** One URL of a request that points at input media, with where it sits in the body. */
export interface MediaReference {
  /** JSON path of the field, e.g. `image_url` or `media[2].url`; errors name it. */
  field: string;
  url: string;
  kind: MediaKind;
  /** What the page allows for this field; the media checker enforces it before any engine starts. */
  limits: MediaLimits;
}

export interface ModelDefinition<Request extends object = Record<string, unknown>, Id extends string = ModelId> {
  /** The path segment of its endpoint (`/v3/async/<id>`) and the name routes, the CLI and the SDK use. */
  id: Id;
  /** `task.task_type` in the Task Result API. */
  taskType: string;
  /** One line for the OpenAPI summary. */
  title: string;
  /** Request body schema; defaults are applied by validation. */
  schema: TObject;
  /**
   * Rules a JSON schema cannot state with a clear message (cross-field rules, truncation).
   * Receives a body that passed the schema, defaults applied; throws an ApiError or returns
   * the request to store.
   */
  normalize(request: Request): Request;
  /** Every media URL of the request, in body order. */
  mediaReferences(request: Request): MediaReference[];
}

/** A request body after validation: what the task row stores and what an engine receives. */
export type ModelRequest = Record<string, unknown>;
