/** `wan-api/client`: the typed client of the Wan 2.7 video API, for Node and browsers. */
export { WanClient, retryAfterMs } from './client.js';
export type { EventsOptions, RequestOptions, RetryOptions, SubmitOptions, UploadData, UploadOptions, WaitOptions, WanClientOptions } from './client.js';
export { WanApiError, isWanApiError } from './errors.js';
export type { WanApiErrorInit, WanErrorKind } from './errors.js';
export type {
  I2vRequest,
  ModelId,
  ModelRequests,
  R2vRequest,
  T2vRequest,
  TaskCreated,
  TaskInfo,
  TaskList,
  TaskListQuery,
  TaskResult,
  TaskStatusName,
  TaskStreamEvent,
  UsageQuery,
  UsageReport,
  VideoeditRequest,
  WebhookDeliveries,
  WebhookDelivery,
} from './types.js';
export { terminalStatuses } from './types.js';
