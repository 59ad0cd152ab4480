import { Type, type Static } from '@sinclair/typebox';
import { TaskStatus } from '../spec/task-status.js';
import { stringEnum } from './common-fields.js';
import { models } from './registry.js';

/**
 * The answer of `GET /v3/async/task-result`, in the provider's shape (docs/api-notes §1). The
 * provider marks every field optional; this server always sends all of them, so all are required
 * here. Objects stay open to new fields: a client must not break when one is added.
 */

/**
 * The body of every error response, also kept in a failed task's `extra.error` (ApiErrorBody in
 * spec/api-error.ts is its TypeScript side).
 */
export const apiErrorBodySchema = Type.Object({
  code: Type.Integer({ description: 'The HTTP status.' }),
  reason: Type.String({ description: 'Stable name of the error, e.g. INVALID_REQUEST_BODY, TASK_NOT_FOUND.' }),
  message: Type.String({ description: 'What went wrong, for a human: names the field, the value and the rule.' }),
  metadata: Type.Record(Type.String(), Type.Unknown(), {
    description:
      'Details for programs: `field` (JSON path such as `media[1].type`), the `value` received and the limit ' +
      '(`minimum`, `maximum`, `maxLength`, `allowed` …) where they apply, `suggestion` for a misspelt field, ' +
      'and `errors` (`[{field, message}]`) when a request breaks several rules.',
  }),
});

const taskSchema = Type.Object({
  task_id: Type.String(),
  task_type: stringEnum(
    models.map((model) => model.taskType),
    { description: 'The model that runs the task.' },
  ),
  status: stringEnum(Object.values(TaskStatus)),
  reason: Type.String({ description: 'Why the task failed, for a human; empty unless status is TASK_STATUS_FAILED.' }),
  eta: Type.Integer({ minimum: 0, description: 'Estimated seconds until the task ends.' }),
  progress_percent: Type.Integer({ minimum: 0, maximum: 100 }),
});

const videoSchema = Type.Object({
  video_url: Type.String({ description: 'Signed URL of the video; it stops working after video_url_ttl seconds.' }),
  video_url_ttl: Type.String({ description: 'Lifetime of video_url in seconds, as a string (e.g. "3600").' }),
  video_type: Type.String({ description: 'Container of the video: mp4.' }),
});

/** Never filled by the video models; kept so that clients written for the provider's schema work. */
const imageSchema = Type.Object({
  image_url: Type.String(),
  image_url_ttl: Type.Integer(),
  image_type: Type.String(),
});

/** Never filled by the video models, as imageSchema. */
const audioSchema = Type.Object({
  audio_url: Type.String(),
  audio_url_ttl: Type.String(),
  audio_type: Type.String(),
});

const debugInfoSchema = Type.Object({
  request_info: Type.String(),
  submit_time_ms: Type.String({ description: 'When the task was accepted, epoch milliseconds as a string.' }),
  execute_time_ms: Type.String({ description: 'When it started running, epoch milliseconds as a string; empty before.' }),
  complete_time_ms: Type.String({ description: 'When it ended, epoch milliseconds as a string; empty before.' }),
});

/** Open on purpose (and said so, for serializers that drop undeclared fields): engines add their own. */
const resultExtraSchema = Type.Object(
  {
    seed: Type.String({ description: "The seed in force, as a string: the request's, or the one drawn for it." }),
    debug_info: debugInfoSchema,
    error: Type.Optional(apiErrorBodySchema),
  },
  {
    additionalProperties: true,
    description:
      'seed and debug_info always; error (the structured error behind task.reason) when the task failed; ' +
      'other fields an engine reports.',
  },
);

export const taskResultSchema = Type.Object({
  task: taskSchema,
  images: Type.Array(imageSchema, { description: 'Always empty for the Wan 2.7 video models.' }),
  videos: Type.Array(videoSchema, { description: 'The generated video once the task has succeeded.' }),
  audios: Type.Array(audioSchema, { description: 'Always empty for the Wan 2.7 video models.' }),
  extra: resultExtraSchema,
});

export type TaskResultResponse = Static<typeof taskResultSchema>;

/** The answer of every create-task endpoint. */
export const taskCreatedSchema = Type.Object({
  task_id: Type.String({ description: 'Use the task_id to request the Task Result API to retrieve the generated outputs.' }),
});

/** The answer of `POST /v3/uploads`. */
export const uploadResultSchema = Type.Object({
  url: Type.String({ description: 'Signed URL of the file on this server, usable in any media field of a request.' }),
  content_type: Type.String({ description: 'The format read from the bytes, e.g. image/png.' }),
  size_bytes: Type.Integer({ minimum: 1 }),
  url_ttl_seconds: Type.Integer({ description: 'Lifetime of url in seconds.' }),
});

/** The answer of `GET /healthz`. */
export const healthSchema = Type.Object({ status: Type.Literal('ok') });

/** The answer of `GET /readyz` when ready; when not, it is a 503 error whose metadata.checks has the same checks. */
export const readinessSchema = Type.Object({
  status: Type.Literal('ready'),
  checks: Type.Record(Type.String(), Type.String(), { description: 'Each part checked, "ok" when it is.' }),
});

/** `GET /v3/async/tasks`: a page of the calling key's tasks; `next_cursor` continues it, null on the last page. */
export const taskListSchema = Type.Object({
  tasks: Type.Array(taskResultSchema),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});

/** `GET /v3/webhook-secret`. */
export const webhookSecretSchema = Type.Object({ secret: Type.String({ description: 'whsec_…: verifies the signatures of this key\'s events.' }) });

const nullableInteger = Type.Union([Type.Integer(), Type.Null()]);

/** `GET /v3/async/task-webhooks`: the delivery state of a task's events (times in epoch ms). */
export const deliveriesSchema = Type.Object({
  deliveries: Type.Array(
    Type.Object({
      id: Type.String({ description: 'The webhook-id header of every attempt of this event.' }),
      url: Type.String(),
      event_type: Type.String(),
      state: Type.String({ description: 'pending, delivered or given_up.' }),
      attempts: Type.Integer(),
      last_status_code: nullableInteger,
      last_error: Type.Union([Type.String(), Type.Null()]),
      last_attempt_at: nullableInteger,
      next_attempt_at: nullableInteger,
      created_at: Type.Integer(),
    }),
  ),
});
