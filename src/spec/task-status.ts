/**
 * Task states as the Task Result API names them, and the only moves between them.
 * Every store update names the state it expects the row to be in, so a move that this
 * table does not allow can never be written.
 */
export const TaskStatus = {
  Queued: 'TASK_STATUS_QUEUED',
  Processing: 'TASK_STATUS_PROCESSING',
  Succeed: 'TASK_STATUS_SUCCEED',
  Failed: 'TASK_STATUS_FAILED',
} as const;

export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];

const allowedMoves: Record<TaskStatus, readonly TaskStatus[]> = {
  // Queued → Failed: checks that fail before any engine is leased (or a cancellation).
  [TaskStatus.Queued]: [TaskStatus.Processing, TaskStatus.Failed],
  // Processing → Queued: a worker that shuts down hands its task back; Processing → Processing:
  // a lease that expired (the worker died) is taken over by another worker.
  [TaskStatus.Processing]: [TaskStatus.Processing, TaskStatus.Queued, TaskStatus.Succeed, TaskStatus.Failed],
  [TaskStatus.Succeed]: [],
  [TaskStatus.Failed]: [],
};

export function canMove(from: TaskStatus, to: TaskStatus): boolean {
  return allowedMoves[from].includes(to);
}

export function isTerminal(status: TaskStatus): boolean {
  return allowedMoves[status].length === 0;
}
