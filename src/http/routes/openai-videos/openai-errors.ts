import type { Static } from '@sinclair/typebox';
import type { ApiError } from '../../../spec/api-error.js';
import type { openAiErrorBodySchema } from '../../../models/openai-video-schema.js';

/** Every path of the OpenAI-compatible API starts so; its errors, even a 404 of an unknown path, take OpenAI's body. */
export const openAiPathPrefix = '/v1/';

export function isOpenAiRequest(url: string): boolean {
  return url.startsWith(openAiPathPrefix);
}

/** The native API answers a missing key 400 and a wrong one 403; OpenAI answers both 401 (the SDK's AuthenticationError). */
const keyReasons = new Set(['MISSING_API_KEY', 'INVALID_API_KEY']);

/**
 * An error as OpenAI answers it: `{"error": {message, type, param, code}}`, with the status the
 * SDK maps to its error classes (400 BadRequestError, 401 AuthenticationError, 404 NotFoundError,
 * 409 ConflictError, 422 UnprocessableEntityError, 429 RateLimitError, 5xx InternalServerError).
 * `param` is the field at fault and `code` the native reason in lower case; the message is the
 * native API's. `retry` is sent as `x-should-retry`, which the SDK obeys over its own rule (it
 * would otherwise retry every 409).
 */
export function openAiError(error: ApiError): { status: number; retry: boolean; body: Static<typeof openAiErrorBodySchema> } {
  const status = keyReasons.has(error.reason) ? 401 : error.status;
  const field = error.metadata.field;
  return {
    status,
    retry: error.retryable,
    body: {
      error: {
        message: error.message,
        type: errorType(status),
        param: typeof field === 'string' ? field : null,
        code: error.reason.toLowerCase(),
      },
    },
  };
}

function errorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}
