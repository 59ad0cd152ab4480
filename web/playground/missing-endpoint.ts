import type { WanApiError } from '../../src/client/errors.js';

/**
 * Whether an error answer means "this server has no such endpoint" (an older server, or another
 * provider of the API) rather than something about the request: a 404 that is not about the task.
 */
export function isMissingEndpoint(error: WanApiError): boolean {
  return error.status === 404 && error.reason !== 'TASK_NOT_FOUND';
}
