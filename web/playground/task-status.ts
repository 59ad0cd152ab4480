import { terminalStatuses, type TaskInfo } from '../../src/client/types.js';

/** How the page names a task's state: `TASK_STATUS_SUCCEED` → `Succeeded`. */
const labels: Record<TaskInfo['status'], string> = {
  TASK_STATUS_QUEUED: 'Queued',
  TASK_STATUS_PROCESSING: 'Processing',
  TASK_STATUS_SUCCEED: 'Succeeded',
  TASK_STATUS_FAILED: 'Failed',
};

export function statusLabel(task: TaskInfo): string {
  return labels[task.status] ?? task.status;
}

export function isRunning(task: TaskInfo): boolean {
  return !terminalStatuses.includes(task.status);
}
