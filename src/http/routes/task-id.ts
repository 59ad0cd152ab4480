import { invalidRequest } from '../../spec/api-error.js';

/** The `task_id` a task endpoint names, in its query or body; refused by name when missing. */
export function requiredTaskId(value: unknown, example: string): string {
  if (typeof value !== 'string' || value === '') {
    throw invalidRequest('task_id', `task_id is required, e.g. ${example}`, value === undefined ? {} : { value });
  }
  return value;
}
