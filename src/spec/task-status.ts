/**
 * Task states as the Task Result API names them. A store's writes move a task only this way:
 * Queued → Processing when a worker leases it; Processing → Processing when another worker takes
 * over an expired lease; Processing → Queued when a worker hands it back at shutdown; Processing →
 * Succeed or Failed when it ends. Each write names the state it expects, so no other move happens.
 */
export const TaskStatus = {
  Queued: 'TASK_STATUS_QUEUED',
  Processing: 'TASK_STATUS_PROCESSING',
  Succeed: 'TASK_STATUS_SUCCEED',
  Failed: 'TASK_STATUS_FAILED',
} as const;

export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];
