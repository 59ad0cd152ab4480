import { ApiError, errors } from '../../spec/api-error.js';
import { EngineUnavailable } from '../../spec/engine.js';
import { misconfigured } from '../upstream/upstream-calls.js';
import type { UpstreamHttp, UpstreamResponse } from '../upstream/upstream-http.js';

/**
 * DashScope's error codes in terms of this API. Its error body is
 * `{"code": "InvalidParameter", "message": "…", "request_id": "…"}`; a task that failed carries
 * the same `code` and `message` in `output`.
 */

export function describeDashScopeError(body: unknown): { code?: string; message?: string } {
  const { code, message } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  return {
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof message === 'string' ? { message } : {}),
  };
}

/** Refusals by DashScope's content checks (of the prompt, an input medium, or the output). */
const contentRefusalCodes = new Set(['DataInspectionFailed', 'data_inspection_failed', 'IPInfringementSuspect']);

/** Codes that say the server's account cannot use the service: its key, its balance, its rights. */
function isAccountProblem(code: string): boolean {
  return code === 'InvalidApiKey' || code === 'Arrearage' || code.startsWith('AccessDenied');
}

/**
 * A content refusal as ILLEGAL_IMAGE_CONTENT when DashScope's message blames an input medium,
 * else ILLEGAL_PROMPT (the text, or an output the prompt led to).
 */
function contentRefusal(engine: string, code: string, message: string): ApiError {
  const metadata = { engine, upstream_code: code };
  if (/\b(image|picture|photo|video|frame|media)\b/i.test(message)) {
    return new ApiError(400, 'ILLEGAL_IMAGE_CONTENT', `the upstream's content check refused an input image or video: ${message} (${code})`, metadata);
  }
  return new ApiError(400, 'ILLEGAL_PROMPT', `the upstream's content check refused the prompt or what it produced: ${message} (${code})`, metadata);
}

/**
 * The meaning of an error answer to a create call, once the cases every upstream shares (429,
 * 5xx, 401, 403) are set aside: throttling or an account problem leaves the task free for
 * another engine; a refusal of the request ends it.
 */
export function createRejection(http: UpstreamHttp, response: UpstreamResponse): Error {
  const engine = http.engine;
  const { code = '', message = '' } = http.errorOf(response.body);
  const described = http.describe(response);
  if (code.startsWith('Throttling')) {
    return new EngineUnavailable(engine, `the ${engine} upstream did not take the task: ${described}`, response.retryAfterMs);
  }
  if (isAccountProblem(code)) return misconfigured(engine, `the ${engine} upstream refused the server's account: ${described}`);
  if (code === 'ModelNotFound' || response.status === 404) {
    return misconfigured(engine, `the ${engine} upstream does not serve this model at its base URL (check the region): ${described}`);
  }
  if (contentRefusalCodes.has(code)) return contentRefusal(engine, code, message);
  if (response.status === 400) {
    return new ApiError(400, 'INVALID_REQUEST_BODY', `the upstream refused the request: ${message || described}`, {
      engine,
      upstream_code: code,
    });
  }
  return errors.taskFailed(`the ${engine} upstream refused the task: ${described}`, { engine, upstream_code: code });
}

/** The error of a task DashScope reports FAILED, from its `output.code` and `output.message`. */
export function taskFailure(engine: string, code: string, message: string): ApiError {
  if (contentRefusalCodes.has(code)) return contentRefusal(engine, code, message);
  if (code.startsWith('InvalidParameter')) {
    return new ApiError(400, 'INVALID_REQUEST_BODY', `the upstream refused the request: ${message}`, { engine, upstream_code: code });
  }
  const detail = [code, message].filter((part) => part !== '').join(': ');
  return errors.taskFailed(`the ${engine} upstream failed the task${detail === '' ? '' : `: ${detail}`}`, { engine, upstream_code: code });
}
