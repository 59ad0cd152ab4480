import type { ApiErrorBody } from '../spec/api-error.js';

/**
 * How a test-mode task (a webhook's `test_mode`) is stored: ended at once, never run. Both
 * backends write these, as JSON text.
 */
export const testModeExtra = JSON.stringify({ test_mode: true });

const testModeFailure: ApiErrorBody = { code: 500, reason: 'TASK_FAILED', message: 'a test-mode task: it was not run', metadata: { test_mode: true } };
export const testModeError = JSON.stringify(testModeFailure);
