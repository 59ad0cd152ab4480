import { ApiError, errors, type ErrorMetadata } from '../../spec/api-error.js';
import { EngineUnavailable } from '../../spec/engine.js';
import { misconfigured } from '../upstream/upstream-calls.js';
import type { UpstreamHttp, UpstreamResponse } from '../upstream/upstream-http.js';

/**
 * The errors of a provider of this same API, in terms of this server. Its error body is ours:
 * `{"code": 400, "reason": "INVALID_REQUEST_BODY", "message": "…", "metadata": {}}`.
 */

export function describeNovitaError(body: unknown): { code?: string; message?: string } {
  const { reason, message } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  return {
    ...(typeof reason === 'string' ? { code: reason } : {}),
    ...(typeof message === 'string' ? { message } : {}),
  };
}

/**
 * Reasons of the API a task may end with, kept as the upstream gave them (with their HTTP
 * status), because they mean the same here: what was wrong with the request or its media.
 */
const keptReasons: Readonly<Record<string, number>> = {
  INVALID_REQUEST_BODY: 400,
  IMAGE_FILE_EXCEEDS_MAX_SIZE: 400,
  INVALID_IMAGE_FORMAT: 400,
  IMAGE_EXCEEDS_MAX_RESOLUTION: 400,
  INVALID_IMAGE_SIZE: 400,
  INVALID_AUDIO_FILE: 400,
  INVALID_VIDEO_FORMAT: 400,
  VIDEO_FILE_EXCEEDS_MAX_SIZE: 400,
  INVALID_VIDEO_DURATION: 400,
  MEDIA_DOWNLOAD_FAILED: 400,
  ILLEGAL_PROMPT: 400,
  ILLEGAL_IMAGE_CONTENT: 400,
  TASK_FAILED: 500,
};

/** Reasons about the server's account at the upstream (its key, balance, rights), not the request. */
const accountReasons = new Set([
  'MISSING_API_KEY',
  'INVALID_API_KEY',
  'BILLING_AUTH_FAILED',
  'BILLING_BALANCE_NOT_ENOUGH',
  'FEATURE_NOT_ALLOWED',
  'API_NOT_ALLOWED',
]);

/**
 * The meaning of an error answer to a create call, once the cases every upstream shares (429,
 * 5xx, 401, 403) are set aside.
 */
export function createRejection(http: UpstreamHttp, response: UpstreamResponse): Error {
  const engine = http.engine;
  const { code: reason = '', message = '' } = http.errorOf(response.body);
  const described = http.describe(response);
  if (reason === 'RATE_LIMIT_EXCEEDED') {
    return new EngineUnavailable(engine, `the ${engine} upstream did not take the task: ${described}`, response.retryAfterMs);
  }
  if (accountReasons.has(reason)) return misconfigured(engine, `the ${engine} upstream refused the server's account: ${described}`);
  if (reason === 'API_NOT_FOUND' || response.status === 404) {
    return misconfigured(engine, `the ${engine} upstream does not serve this model at its base URL: ${described}`);
  }
  const metadata = { ...upstreamMetadata(http, response.body), engine };
  if (reason in keptReasons) return new ApiError(keptReasons[reason], reason, message || described, metadata);
  if (response.status === 400) {
    return new ApiError(400, 'INVALID_REQUEST_BODY', `the upstream refused the request: ${message || described}`, {
      ...metadata,
      upstream_reason: reason,
    });
  }
  return errors.taskFailed(`the ${engine} upstream refused the task: ${described}`, { engine, upstream_reason: reason });
}

/**
 * The error of a task the upstream reports TASK_STATUS_FAILED. `task.reason` is its message; a
 * server like this one also puts the whole error body in `extra.error`, whose reason is kept
 * when it is one of ours.
 */
export function taskFailure(http: UpstreamHttp, upstreamTaskId: string, result: Record<string, unknown>): ApiError {
  const engine = http.engine;
  const task = (result.task ?? {}) as Record<string, unknown>;
  const reasonText = typeof task.reason === 'string' ? http.redact(task.reason) : '';
  const detailed = errorBodyOf((result.extra as Record<string, unknown> | undefined)?.error);
  if (detailed !== undefined && detailed.reason in keptReasons) {
    const message = http.redact(detailed.message) || reasonText;
    return new ApiError(keptReasons[detailed.reason], detailed.reason, message, { ...upstreamMetadata(http, detailed), engine });
  }
  if (reasonText in keptReasons) return new ApiError(keptReasons[reasonText], reasonText, `the ${engine} upstream failed the task: ${reasonText}`, { engine });
  return errors.taskFailed(reasonText || `the ${engine} upstream failed the task without saying why`, {
    engine,
    upstream_task_id: upstreamTaskId,
  });
}

function errorBodyOf(value: unknown): { reason: string; message: string; metadata?: unknown } | undefined {
  const { reason, message, metadata } = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  return typeof reason === 'string' ? { reason, message: typeof message === 'string' ? message : '', metadata } : undefined;
}

/** The upstream's `metadata` (which field, which limit), with the API key blotted out anywhere in it. */
function upstreamMetadata(http: UpstreamHttp, body: unknown): ErrorMetadata {
  const metadata = (body as { metadata?: unknown } | undefined)?.metadata;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return {};
  return JSON.parse(http.redact(JSON.stringify(metadata))) as ErrorMetadata;
}
