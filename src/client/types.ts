/**
 * The types of the API, taken from the server's own schemas with `import type` only: nothing of
 * the server is loaded at run time, yet the request and result types cannot drift from what the
 * server validates and answers.
 */
import type { I2vRequest } from '../models/i2v.js';
import type { ModelId } from '../models/model.js';
import type { R2vRequest } from '../models/r2v.js';
import type { T2vRequest } from '../models/t2v.js';
import type { TaskResultResponse } from '../models/task-result-schema.js';
import type { VideoeditRequest } from '../models/videoedit.js';

export type { I2vRequest, ModelId, R2vRequest, T2vRequest, VideoeditRequest };

/** The request body of each model, by model id. */
export interface ModelRequests {
  'wan2.7-t2v': T2vRequest;
  'wan2.7-i2v': I2vRequest;
  'wan2.7-r2v': R2vRequest;
  'wan2.7-videoedit': VideoeditRequest;
}

/** The answer of `GET /v3/async/task-result`. */
export type TaskResult = TaskResultResponse;
export type TaskInfo = TaskResult['task'];
export type TaskStatusName = TaskInfo['status'];

/** The answer of every create-task endpoint. */
export interface TaskCreated {
  task_id: string;
}

export const terminalStatuses: readonly string[] = ['TASK_STATUS_SUCCEED', 'TASK_STATUS_FAILED'];
