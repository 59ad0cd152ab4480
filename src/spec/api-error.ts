/**
 * The one error type of the API. Everything that can go wrong for a client is an ApiError
 * with the documented `reason`; a single handler turns it into the documented body
 * `{"code": <http status>, "reason": "<NAME>", "message": "<human text>", "metadata": {}}`.
 */
export type ErrorMetadata = Record<string, unknown>;

export interface ApiErrorBody {
  code: number;
  reason: string;
  message: string;
  metadata: ErrorMetadata;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly metadata: ErrorMetadata = {},
    /** Whether trying the same thing again later may succeed (network trouble, capacity). */
    readonly retryable = false,
    /** Sent as `Retry-After`: when trying again makes sense. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody(): ApiErrorBody {
    return { code: this.status, reason: this.reason, message: this.message, metadata: this.metadata };
  }

  /** Rebuilds an error saved on a task row (see toBody). */
  static fromBody(body: ApiErrorBody): ApiError {
    return new ApiError(body.code, body.reason, body.message, body.metadata ?? {});
  }
}

/** A request body that breaks a documented rule. `field` is the JSON path of the offending value. */
export function invalidRequest(field: string, message: string, metadata: ErrorMetadata = {}): ApiError {
  return new ApiError(400, 'INVALID_REQUEST_BODY', message, { field, ...metadata });
}

export const errors = {
  apiNotFound: (method: string, path: string) =>
    new ApiError(404, 'API_NOT_FOUND', `no API at ${method} ${path}`, { method, path }),
  taskNotFound: (taskId: string) =>
    new ApiError(404, 'TASK_NOT_FOUND', `task "${taskId}" does not exist or belongs to another API key`, {
      task_id: taskId,
    }),
  missingApiKey: () =>
    new ApiError(
      400,
      'MISSING_API_KEY',
      'missing API key: send it in the Authorization header as "Bearer <key>"',
    ),
  invalidApiKey: () => new ApiError(403, 'INVALID_API_KEY', 'the API key is not valid or has been revoked'),
  /** `GET /metrics` is opened by the server's metrics_token alone, never by an API key. */
  missingMetricsToken: () =>
    new ApiError(
      401,
      'MISSING_METRICS_TOKEN',
      'missing metrics token: send the server\'s metrics_token in the Authorization header as "Bearer <token>" (API keys do not open /metrics)',
    ),
  invalidMetricsToken: () =>
    new ApiError(401, 'INVALID_METRICS_TOKEN', 'the metrics token is not valid: send the server\'s metrics_token setting (API keys do not open /metrics)'),
  createTaskFailed: (message: string) => new ApiError(500, 'CREATE_TASK_FAILED', message, {}, true),
  taskFailed: (message: string, metadata: ErrorMetadata = {}) =>
    new ApiError(500, 'TASK_FAILED', message, metadata),
  internal: () => new ApiError(500, 'INTERNAL_ERROR', 'internal server error', {}, true),
  /** The database cannot be reached for now: nothing was stored, and the same request may succeed soon. */
  storeUnavailable: (problem: string) =>
    new ApiError(503, 'SERVICE_UNAVAILABLE', `the server cannot reach its database right now (${problem}); try again shortly`, {}, true, 5),
  /** The server's own disk is full: nothing was stored, and the same request may succeed later. */
  storageFull: (problem: string) =>
    new ApiError(503, 'STORAGE_FULL', `the server cannot store anything right now: ${problem}; try again later`, {}, true, 60),
};
