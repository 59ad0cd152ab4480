import { errors } from '../../spec/api-error.js';
import { EngineUnavailable } from '../../spec/engine.js';
import { misconfigured } from '../upstream/upstream-calls.js';
import type { UpstreamHttp, UpstreamResponse } from '../upstream/upstream-http.js';

/**
 * The error bodies of `/v1/videos` servers: vLLM-Omni answers OpenAI's
 * `{"error": {"message", "type", "code"}}`; SGLang and other FastAPI servers `{"detail": "…"}`,
 * or for a form that failed validation `{"detail": [{"loc": […], "msg": "…"}]}`.
 */
export function describeOpenAiVideosError(body: unknown): { code?: string; message?: string } {
  const { error, detail, message } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof error === 'object' && error !== null) {
    const { message: text, code, type } = error as Record<string, unknown>;
    const kind = code ?? type;
    return {
      ...(typeof kind === 'string' || typeof kind === 'number' ? { code: String(kind) } : {}),
      ...(typeof text === 'string' ? { message: text } : {}),
    };
  }
  if (typeof detail === 'string') return { message: detail };
  if (Array.isArray(detail)) {
    const problems = detail.map((item) => {
      const { loc, msg } = (item ?? {}) as { loc?: unknown; msg?: unknown };
      const where = Array.isArray(loc) ? loc.filter((part) => part !== 'body').join('.') : '';
      return `${where === '' ? '' : `${where}: `}${typeof msg === 'string' ? msg : JSON.stringify(item)}`;
    });
    return { message: problems.join('; ') };
  }
  if (typeof error === 'string') return { message: error };
  return typeof message === 'string' ? { message } : {};
}

/**
 * The meaning of an error answer to a create call, once 429, 5xx, 401 and 403 are set aside.
 * A server that refuses the form (400, 422) created nothing: the form is ours, made from a
 * valid request, so another engine of the route may take the task. A 404 means `base_url` does
 * not lead to `/v1/videos`.
 */
export function createRejection(http: UpstreamHttp, response: UpstreamResponse): Error {
  const engine = http.engine;
  const described = http.describe(response);
  if (response.status === 404) {
    return misconfigured(engine, `the ${engine} server has no /videos endpoint at its base_url (it usually ends with /v1): ${described}`);
  }
  if (response.status === 400 || response.status === 422) {
    return new EngineUnavailable(engine, `the ${engine} server refused the request: ${described}`);
  }
  return errors.taskFailed(`the ${engine} server refused the task: ${described}`, { engine });
}
