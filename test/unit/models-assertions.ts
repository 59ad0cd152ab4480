import assert from 'node:assert/strict';
import { ApiError } from '../../src/spec/api-error.js';
import type { MediaReference, ModelDefinition } from '../../src/models/model.js';
import { validateRequest } from '../../src/models/validate-request.js';

/** Shared by the models-*.test.ts files: what a refusal must look like, and how bodies are varied. */

export type AnyModel = ModelDefinition<any>;

export interface ExpectedRefusal {
  /** `metadata.field`: the JSON path of the offending value. */
  field: string;
  /** Pieces the message must contain (the field, the value, the rule). */
  messageIncludes?: readonly string[];
  /** Entries `metadata` must have, besides `field`. */
  metadata?: Record<string, unknown>;
}

export function accepts<Request extends object>(model: ModelDefinition<Request>, body: unknown): Request {
  return validateRequest(model, body);
}

export function refuses(model: AnyModel, body: unknown, expected: ExpectedRefusal): ApiError {
  let refusal: unknown;
  try {
    validateRequest(model, body);
  } catch (error) {
    refusal = error;
  }
  assert.ok(refusal instanceof ApiError, `expected ${model.id} to refuse ${JSON.stringify(body)?.slice(0, 200)}`);
  assert.equal(refusal.status, 400);
  assert.equal(refusal.reason, 'INVALID_REQUEST_BODY');
  assert.equal(refusal.metadata.field, expected.field, refusal.message);
  for (const piece of expected.messageIncludes ?? []) {
    assert.ok(refusal.message.includes(piece), `message ${JSON.stringify(refusal.message)} lacks ${JSON.stringify(piece)}`);
  }
  for (const [key, value] of Object.entries(expected.metadata ?? {})) {
    assert.deepEqual(refusal.metadata[key], value, `metadata.${key} of ${refusal.message}`);
  }
  return refusal;
}

/** A copy of `body` with the value at `path` (`duration`, `media[0].url`) replaced. */
export function withField(body: object, path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(body) as Record<string, unknown>;
  const keys = path.split(/\.|\[(\d+)\]/).filter((key) => key !== undefined && key !== '');
  const last = keys.pop() as string;
  const parent = keys.reduce<Record<string, unknown>>((node, key) => node[key] as Record<string, unknown>, copy);
  parent[last] = value;
  return copy;
}

/** An http URL exactly `length` characters long. */
export function urlOfLength(length: number): string {
  const prefix = 'https://example.com/';
  return prefix + 'a'.repeat(length - prefix.length);
}

/** A valid body of each model with only what it requires. */
export const minimalBodies = {
  'wan2.7-t2v': { prompt: 'a cat walks on a fence at dusk' },
  'wan2.7-i2v': { image_url: 'https://example.com/first.png' },
  'wan2.7-r2v': {
    prompt: 'character1 waves at the camera',
    media: [{ url: 'https://example.com/character.png', type: 'reference_image' }],
  },
  'wan2.7-videoedit': { video_url: 'https://example.com/input.mp4' },
} as const;

/** Where each media reference sits and what it is, without its limits (checked on their own). */
export function placesOf(references: MediaReference[]): Omit<MediaReference, 'limits'>[] {
  return references.map(({ field, url, kind }) => ({ field, url, kind }));
}
