/**
 * The types of the API, taken from the server's own schemas with `import type` only: nothing of
 * the server is loaded at run time, yet the request and result types cannot drift from what the
 * server validates and answers.
 */
import type { I2vRequest } from '../models/i2v.js';
import type { ModelDefinition, ModelId } from '../models/model.js';
import type { R2vRequest } from '../models/r2v.js';
import type { models } from '../models/registry.js';
import type { T2vRequest } from '../models/t2v.js';
import type { TaskResultResponse } from '../models/task-result-schema.js';
import type { UsageReport } from '../models/usage-schema.js';
import type { VideoeditRequest } from '../models/videoedit.js';

export type { I2vRequest, ModelId, R2vRequest, T2vRequest, VideoeditRequest };

/** The request body of each model, by model id. */
export type ModelRequests = {
  [Model in (typeof models)[number] as Model['id']]: Model extends ModelDefinition<infer Request, string> ? Request : never;
};

/** The answer of `GET /v3/async/task-result`. */
export type TaskResult = TaskResultResponse;
export type TaskInfo = TaskResult['task'];
export type TaskStatusName = TaskInfo['status'];

/** The answer of every create-task endpoint. */
export interface TaskCreated {
  task_id: string;
}

export const terminalStatuses: readonly string[] = ['TASK_STATUS_SUCCEED', 'TASK_STATUS_FAILED'];

/** What `listTasks` may ask for (`GET /v3/async/tasks`). */
export interface TaskListQuery {
  /** 1 to 100; 20 by default. */
  limit?: number;
  /** The `next_cursor` of the page before. */
  cursor?: string;
  status?: TaskStatusName;
  model?: ModelId;
}

/** One page of tasks, newest first; `next_cursor` is null on the last page. */
export interface TaskList {
  tasks: TaskResult[];
  next_cursor: string | null;
}

/** One state of a task on its event stream; `id` resumes the stream after it. */
export interface TaskStreamEvent {
  id: string | undefined;
  result: TaskResult;
}

/** One webhook event of a task and how its delivery stands (times in epoch ms). */
export interface WebhookDelivery {
  /** The `webhook-id` header of each attempt. */
  id: string;
  url: string;
  event_type: string;
  state: 'pending' | 'delivered' | 'given_up';
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  last_attempt_at: number | null;
  next_attempt_at: number | null;
  created_at: number;
}

export interface WebhookDeliveries {
  deliveries: WebhookDelivery[];
}

/** `GET /v3/usage`: which tasks' usage to sum, and how. */
export interface UsageQuery {
  /** A UTC day (`2026-11-01`) or an ISO 8601 time; the start of the current UTC month by default. */
  from?: string;
  /** Exclusive end, in the same forms; now by default. */
  to?: string;
  group_by?: 'model' | 'day';
}

export type { UsageReport };
