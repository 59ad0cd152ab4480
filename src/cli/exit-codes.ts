import { WanApiError } from '../client/errors.js';

/** Exit codes of the client commands of `wan` (documented in docs/cli-and-sdk.md). */
export const ExitCode = {
  Ok: 0,
  /** Any other error answer of the API (403 INVALID_API_KEY, 404 TASK_NOT_FOUND, 5xx, uploads refused, …). */
  ApiError: 1,
  /** Bad input: a usage error, a request refused by local validation or by the server (400 INVALID_REQUEST_BODY), a missing file or key. */
  BadInput: 2,
  /** The task ended in TASK_STATUS_FAILED. */
  TaskFailed: 3,
  /** The server could not be reached, or did not answer a request in time. */
  Unreachable: 4,
  /** `--timeout` passed before the task ended (the task goes on; `wan wait <id>` picks it up). */
  WaitTimeout: 5,
  /** Interrupted (Ctrl-C). */
  Interrupted: 130,
} as const;

export function exitCodeOf(error: unknown): number {
  if (!(error instanceof WanApiError)) return ExitCode.ApiError;
  switch (error.kind) {
    case 'task_failed':
      return ExitCode.TaskFailed;
    case 'network':
      return ExitCode.Unreachable;
    case 'timeout':
      return error.taskId === undefined ? ExitCode.Unreachable : ExitCode.WaitTimeout;
    case 'aborted':
      return ExitCode.Interrupted;
    case 'http':
      return error.status === 400 && error.reason === 'INVALID_REQUEST_BODY' ? ExitCode.BadInput : ExitCode.ApiError;
  }
}
