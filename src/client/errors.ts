/**
 * The one error type of the client. Every failure a caller can meet — an error answer of the
 * API, a network failure, a timeout, an abort, a task that ended in TASK_STATUS_FAILED — is a
 * WanApiError; `kind` says which, and `code`/`reason`/`message`/`metadata` mirror the API's
 * error body `{code, reason, message, metadata}` whenever there is one.
 */
export type WanErrorKind =
  /** The server answered with an error status (see `status`, `reason`). */
  | 'http'
  /** No answer: connection refused, DNS failure, connection reset, … (`status` is 0). */
  | 'network'
  /** No answer in time: a request over `requestTimeoutMs`, or `waitFor` over its `timeout`. */
  | 'timeout'
  /** The caller's AbortSignal fired. */
  | 'aborted'
  /** The task ended in TASK_STATUS_FAILED; `result` holds the Task Result, `taskId` the task. */
  | 'task_failed';

export interface WanApiErrorInit {
  kind: WanErrorKind;
  /** HTTP status of the answer; 0 when there was none. */
  status: number;
  /** `code` of the error body (the HTTP status for this API); `status` when the body had none. */
  code?: number;
  reason: string;
  message: string;
  metadata?: Record<string, unknown>;
  taskId?: string;
  /** The Task Result of a failed task. */
  result?: unknown;
  /** Whether the request could have reached the server (for network errors and timeouts). */
  mayHaveReachedServer?: boolean;
  cause?: unknown;
}

export class WanApiError extends Error {
  readonly kind: WanErrorKind;
  readonly status: number;
  readonly code: number;
  readonly reason: string;
  readonly metadata: Record<string, unknown>;
  readonly taskId?: string;
  readonly result?: unknown;
  readonly mayHaveReachedServer: boolean;

  constructor(init: WanApiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'WanApiError';
    this.kind = init.kind;
    this.status = init.status;
    this.code = init.code ?? init.status;
    this.reason = init.reason;
    this.metadata = init.metadata ?? {};
    this.taskId = init.taskId;
    this.result = init.result;
    this.mayHaveReachedServer = init.mayHaveReachedServer ?? init.kind !== 'network';
  }

  /** The error as the API's error body. */
  toJSON(): { code: number; reason: string; message: string; metadata: Record<string, unknown> } {
    return { code: this.code, reason: this.reason, message: this.message, metadata: this.metadata };
  }
}

export function isWanApiError(error: unknown): error is WanApiError {
  return error instanceof WanApiError;
}
