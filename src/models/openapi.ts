import type { ModelDefinition } from './model.js';
import { modelPath, models } from './registry.js';
import { taskUsageSchema, usageReportSchema } from './usage-schema.js';
import {
  apiErrorBodySchema,
  deliveriesSchema,
  healthSchema,
  readinessSchema,
  taskCreatedSchema,
  taskListSchema,
  taskResultSchema,
  uploadResultSchema,
  webhookSecretSchema,
} from './task-result-schema.js';
import {
  openAiErrorBodySchema,
  openAiVideoCreateSchema,
  openAiVideoDeletedSchema,
  openAiVideoListSchema,
  openAiVideoSchema,
} from './openai-video-schema.js';

/**
 * The OpenAPI 3.1 description of the API, built from the very schemas that validate requests and
 * type responses, so the document cannot drift from the server. JSON Schema 2020-12, which
 * OpenAPI 3.1 uses, reads these schemas as they are.
 */

export interface OpenApiOptions {
  /** Base URL clients should call, e.g. `https://video.example.com`; omitted, the document has no servers. */
  serverUrl?: string;
}

const taskResultPath = '/v3/async/task-result';

/** A model's name in identifiers of the document: `wan2.7-t2v` → `Wan27T2v`. */
function pascalName(model: ModelDefinition): string {
  return model.id
    .split(/[^a-zA-Z0-9]+/)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}

function requestSchemaName(model: ModelDefinition): string {
  return `${pascalName(model)}Request`;
}

const errorRef = { $ref: '#/components/schemas/Error' };

function errorResponse(description: string) {
  return { description, content: { 'application/json': { schema: errorRef } } };
}

const authErrorResponses = {
  '400': errorResponse('INVALID_REQUEST_BODY: the request breaks a documented rule; MISSING_API_KEY.'),
  '403': errorResponse('INVALID_API_KEY: the API key is not valid or has been revoked.'),
};

/** What any request may be answered, whichever the endpoint: refusals of the HTTP layer. */
const defaultErrorResponse = errorResponse(
  'Any other answer, in the same body: 400 MALFORMED_REQUEST (not valid HTTP: request line, header, chunk, length, URL escape), ' +
    '408 REQUEST_TIMEOUT (headers or body too slow), 431 REQUEST_HEADERS_TOO_LARGE, ' +
    '503 SERVICE_UNAVAILABLE (shutting down), 500 INTERNAL_ERROR.',
);

/** Refusals for limits, on any authenticated request (requests per minute) and on submissions (tasks in flight, queued). */
const rateLimitResponse = {
  ...errorResponse(
    'RATE_LIMIT_EXCEEDED: past one of the limits, named by metadata.field with metadata.limit (and metadata.value, the count found): ' +
      'requests_per_minute of the key; in_flight and queued tasks of the key; max_queued_tasks of the whole server.',
  ),
  headers: { 'Retry-After': { description: 'Seconds after which trying again makes sense.', schema: { type: 'integer' } } },
};

const usageOperation = {
  operationId: 'getUsage',
  summary: 'Usage and cost',
  description:
    "What the calling key's tasks that ended in [from, to) billed, summed per model or per UTC day: tasks, billed seconds, list price and cost " +
    '(tasks of the preview renderer cost 0 and show their would-be price in list_price).',
  tags: ['Usage'],
  parameters: [
    { name: 'from', in: 'query', required: false, description: 'A UTC day (2026-11-01, its midnight) or an ISO 8601 time with zone. Default: the start of the current UTC month.', schema: { type: 'string' } },
    { name: 'to', in: 'query', required: false, description: 'Exclusive end, in the same forms. Default: now.', schema: { type: 'string' } },
    { name: 'group_by', in: 'query', required: false, schema: { type: 'string', enum: ['model', 'day'], default: 'model' } },
  ],
  responses: {
    '200': { description: 'The sums.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Usage' } } } },
    ...authErrorResponses,
    '429': rateLimitResponse,
    default: defaultErrorResponse,
  },
};

/** Operations that need no API key: the probes, this document, and files whose URL is signed. */
const public_ = { security: [] };

function createTaskOperation(model: ModelDefinition) {
  return {
    operationId: `create${pascalName(model)}Task`,
    summary: model.title,
    description: `${model.schema.description ?? model.title}\n\nAsynchronous: answers a task_id; read the result from ${taskResultPath}.`,
    tags: ['Video generation'],
    requestBody: {
      required: true,
      content: { 'application/json': { schema: { $ref: `#/components/schemas/${requestSchemaName(model)}` } } },
    },
    responses: {
      '200': {
        description: 'The task was accepted.',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/TaskCreated' } } },
      },
      ...authErrorResponses,
      '400': errorResponse(
        'INVALID_REQUEST_BODY: the request breaks a documented rule; MISSING_API_KEY; BILLING_BALANCE_NOT_ENOUGH: the seconds it would bill ' +
          'pass the key\'s daily or monthly quota (metadata: field seconds_per_day or seconds_per_month, limit, value used, requested). Nothing was stored.',
      ),
      '429': rateLimitResponse,
      '500': errorResponse('CREATE_TASK_FAILED: the task could not be stored (retry); INTERNAL_ERROR.'),
      default: defaultErrorResponse,
    },
  };
}

const taskResultOperation = {
  operationId: 'getTaskResult',
  summary: 'Task Result',
  description: 'Status, progress and, once the task has succeeded, the video of an asynchronous task.',
  tags: ['Tasks'],
  parameters: [
    {
      name: 'task_id',
      in: 'query',
      required: true,
      description: 'Returned in the 200 response of the create-task endpoints.',
      schema: { type: 'string' },
    },
  ],
  responses: {
    '200': {
      description: 'The task as it stands now.',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/TaskResult' } } },
    },
    ...authErrorResponses,
    '404': errorResponse('TASK_NOT_FOUND: no such task for this API key.'),
    '500': errorResponse('INTERNAL_ERROR.'),
    default: defaultErrorResponse,
  },
};

const taskIdQuery = {
  name: 'task_id',
  in: 'query',
  required: true,
  description: 'Returned in the 200 response of the create-task endpoints.',
  schema: { type: 'string' },
};

const taskCancelOperation = {
  operationId: 'cancelTask',
  summary: 'Cancel a task',
  description:
    'Ends a queued or running task of the calling key as TASK_STATUS_FAILED with `extra.error.reason` TASK_CANCELLED: its ' +
    'engine is stopped (a cloud task is cancelled there where the cloud can), its webhook fires, and it never completes later.',
  tags: ['Tasks'],
  requestBody: {
    required: true,
    content: { 'application/json': { schema: { type: 'object', required: ['task_id'], properties: { task_id: { type: 'string' } } } } },
  },
  responses: {
    '200': { description: 'The task, cancelled.', content: { 'application/json': { schema: { $ref: '#/components/schemas/TaskResult' } } } },
    ...authErrorResponses,
    '404': errorResponse('TASK_NOT_FOUND: no such task for this API key.'),
    '409': errorResponse('TASK_ALREADY_FINISHED: the task had ended; nothing changed.'),
    default: defaultErrorResponse,
  },
};

const taskListOperation = {
  operationId: 'listTasks',
  summary: 'List tasks',
  description: "The calling key's tasks, newest first, each in the Task Result shape.",
  tags: ['Tasks'],
  parameters: [
    { name: 'limit', in: 'query', required: false, description: 'Tasks per page, 1 to 100.', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
    { name: 'cursor', in: 'query', required: false, description: 'The `next_cursor` of the page before.', schema: { type: 'string' } },
    { name: 'status', in: 'query', required: false, schema: { type: 'string', enum: ['TASK_STATUS_QUEUED', 'TASK_STATUS_PROCESSING', 'TASK_STATUS_SUCCEED', 'TASK_STATUS_FAILED'] } },
    { name: 'model', in: 'query', required: false, schema: { type: 'string', enum: models.map((model) => model.id) } },
  ],
  responses: {
    '200': { description: 'One page.', content: { 'application/json': { schema: { $ref: '#/components/schemas/TaskList' } } } },
    ...authErrorResponses,
    default: defaultErrorResponse,
  },
};

const taskEventsOperation = {
  operationId: 'streamTaskEvents',
  summary: 'Live status of a task',
  description:
    'Server-Sent Events: one `task` event per change, `id` the version and `data` the Task Result, the current state first; ' +
    'the stream ends after the terminal state. `: keep-alive` comments every 15 s. Reconnect with Last-Event-ID to skip states seen.',
  tags: ['Tasks'],
  parameters: [taskIdQuery, { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' } }],
  responses: {
    '200': { description: 'The stream.', content: { 'text/event-stream': { schema: { type: 'string' } } } },
    ...authErrorResponses,
    '404': errorResponse('TASK_NOT_FOUND: no such task for this API key.'),
    default: defaultErrorResponse,
  },
};

const taskWebhooksOperation = {
  operationId: 'getTaskWebhooks',
  summary: "Webhook deliveries of a task",
  description: 'Attempts, last status and next try of each event sent for the task.',
  tags: ['Webhooks'],
  parameters: [taskIdQuery],
  responses: {
    '200': { description: 'Its deliveries, oldest first.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Deliveries' } } } },
    ...authErrorResponses,
    '404': errorResponse('TASK_NOT_FOUND: no such task for this API key.'),
    default: defaultErrorResponse,
  },
};

const webhookSecretOperation = {
  operationId: 'getWebhookSecret',
  summary: "The key's webhook secret",
  description: 'The Standard Webhooks secret that signs the events of this key\'s tasks (see docs/webhooks.md).',
  tags: ['Webhooks'],
  responses: {
    '200': { description: 'The secret.', content: { 'application/json': { schema: { $ref: '#/components/schemas/WebhookSecret' } } } },
    ...authErrorResponses,
    default: defaultErrorResponse,
  },
};

const uploadOperation = {
  operationId: 'uploadFile',
  summary: 'Upload a media file',
  description:
    'The raw body is the file, under any Content-Type; its format is read from its bytes (JPEG, PNG, BMP, WEBP, MP4, MOV, ' +
    'WAV, MP3, FLAC), and the largest file any field of that kind accepts is the cap. Answers a signed URL of this server ' +
    'that any request may use in a media field.',
  tags: ['Files'],
  parameters: [
    {
      name: 'x-file-name',
      in: 'header',
      required: false,
      description: 'The file name, URI-encoded; kept (letters, digits, dots, dashes, underscores) with the extension of the format found.',
      schema: { type: 'string' },
    },
  ],
  requestBody: {
    required: true,
    content: { '*/*': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } },
  },
  responses: {
    '200': {
      description: 'The file is stored.',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/UploadResult' } } },
    },
    '400': errorResponse(
      'INVALID_REQUEST_BODY: empty, or not a recognised media format; IMAGE_FILE_EXCEEDS_MAX_SIZE, VIDEO_FILE_EXCEEDS_MAX_SIZE, ' +
        'AUDIO_FILE_EXCEEDS_MAX_SIZE: over the cap of its kind; MISSING_API_KEY.',
    ),
    '403': authErrorResponses['403'],
    default: defaultErrorResponse,
  },
};

const fileOperation = {
  ...public_,
  operationId: 'getFile',
  summary: 'A result or uploaded file',
  description:
    'The URLs of videos in the Task Result and of uploads. The signature in the URL is the credential (no API key), ' +
    'valid until `expires`. One `bytes=` range is served as 206, so players can seek. HEAD answers the same headers.',
  tags: ['Files'],
  parameters: [
    { name: 'key', in: 'path', required: true, description: 'Path of the file, slashes included.', schema: { type: 'string' } },
    { name: 'expires', in: 'query', required: true, description: 'Epoch seconds after which the URL stops working.', schema: { type: 'integer' } },
    { name: 'signature', in: 'query', required: true, schema: { type: 'string' } },
    { name: 'Range', in: 'header', required: false, description: 'One range, e.g. `bytes=0-1023`.', schema: { type: 'string' } },
  ],
  responses: {
    '200': { description: 'The whole file.', content: { '*/*': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } } },
    '206': { description: 'The range asked for; Content-Range says which.', content: { '*/*': { schema: { type: 'string' } } } },
    '403': errorResponse('INVALID_SIGNATURE: the URL was altered; URL_EXPIRED: past its time (read the task again for a fresh one).'),
    '404': errorResponse('FILE_NOT_FOUND: the URL is valid but the file is gone.'),
    '416': errorResponse('RANGE_NOT_SATISFIABLE: the range selects no byte of the file; Content-Range gives its size.'),
    default: defaultErrorResponse,
  },
};

const healthOperation = {
  ...public_,
  operationId: 'getHealth',
  summary: 'Liveness',
  description: 'Answers while the process runs.',
  tags: ['Operations'],
  responses: {
    '200': { description: 'Alive.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Health' } } } },
    default: defaultErrorResponse,
  },
};

const readinessOperation = {
  ...public_,
  operationId: 'getReadiness',
  summary: 'Readiness',
  description: 'Whether the server can take work: its database answers and it is not draining.',
  tags: ['Operations'],
  responses: {
    '200': { description: 'Ready.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Readiness' } } } },
    '503': errorResponse('SERVICE_UNAVAILABLE: not ready; metadata.checks says which part is not.'),
    default: defaultErrorResponse,
  },
};

const openApiOperation = {
  ...public_,
  operationId: 'getOpenApiDocument',
  summary: 'This document',
  tags: ['Operations'],
  responses: {
    '200': { description: 'The OpenAPI 3.1 document of the API.', content: { 'application/json': { schema: { type: 'object' } } } },
    default: defaultErrorResponse,
  },
};

/** The OpenAI-compatible video API (docs/openai-videos.md): errors in OpenAI's body. */
const openAiTag = 'OpenAI-compatible videos';
const openAiErrorRef = { $ref: '#/components/schemas/OpenAiError' };
const videoRef = { $ref: '#/components/schemas/OpenAiVideo' };

function openAiErrorResponse(description: string) {
  return { description, content: { 'application/json': { schema: openAiErrorRef } } };
}

function json(description: string, schema: object) {
  return { description, content: { 'application/json': { schema } } };
}

const openAiCommonErrors = {
  '400': openAiErrorResponse('invalid_request_body and the other refusals of the native API, in OpenAI\'s error body.'),
  '401': openAiErrorResponse('missing_api_key, invalid_api_key.'),
  '404': openAiErrorResponse('task_not_found: no such video for this API key.'),
  '500': openAiErrorResponse('internal_error.'),
  default: openAiErrorResponse('Any other answer, in the same body: request_timeout, request_headers_too_large, malformed_request, service_unavailable (shutting down).'),
};

const videoIdParameter = {
  name: 'video_id',
  in: 'path',
  required: true,
  description: 'The video id, which is the task id of the native API.',
  schema: { type: 'string' },
};

const openAiVideoPaths = {
  '/v1/videos': {
    post: {
      operationId: 'createVideo',
      summary: 'Create a video (OpenAI-compatible)',
      description:
        'Creates a task of one of the Wan 2.7 models from an OpenAI video request, as the `openai` SDK sends it ' +
        '(multipart/form-data) or as JSON, and answers its Video object. The request is validated as the ' +
        "model's own, with the same messages.",
      tags: [openAiTag],
      requestBody: {
        required: true,
        content: {
          'multipart/form-data': {
            schema: {
              allOf: [{ $ref: '#/components/schemas/OpenAiVideoCreateRequest' }],
              properties: { input_reference: { type: 'string', format: 'binary', description: 'The first frame, an image file.' } },
            },
          },
          'application/json': { schema: { $ref: '#/components/schemas/OpenAiVideoCreateRequest' } },
        },
      },
      responses: {
        '200': json('The video was accepted (status queued).', videoRef),
        ...openAiCommonErrors,
        '422': openAiErrorResponse('idempotency_key_reused: the Idempotency-Key was used with another request.'),
        '429': openAiErrorResponse('rate_limit_exceeded: too many tasks of this key in flight.'),
        '503': openAiErrorResponse('storage_full: the server cannot store anything right now.'),
      },
    },
    get: {
      operationId: 'listVideos',
      summary: 'List videos (OpenAI-compatible)',
      description: "The calling key's videos (every task, whichever API created it), a page at a time.",
      tags: [openAiTag],
      parameters: [
        { name: 'after', in: 'query', description: 'The last_id of the previous page.', schema: { type: 'string' } },
        { name: 'limit', in: 'query', description: 'Videos per page.', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
        { name: 'order', in: 'query', description: 'By creation time.', schema: { type: 'string', enum: ['asc', 'desc'], default: 'desc' } },
      ],
      responses: { '200': json('One page of videos.', { $ref: '#/components/schemas/OpenAiVideoList' }), ...openAiCommonErrors },
    },
  },
  '/v1/videos/{video_id}': {
    get: {
      operationId: 'retrieveVideo',
      summary: 'Retrieve a video (OpenAI-compatible)',
      tags: [openAiTag],
      parameters: [videoIdParameter],
      responses: { '200': json('The video as it stands now.', videoRef), ...openAiCommonErrors },
    },
    delete: {
      operationId: 'deleteVideo',
      summary: 'Delete a video (OpenAI-compatible)',
      description: 'Deletes a completed or failed video, its task and its files.',
      tags: [openAiTag],
      parameters: [videoIdParameter],
      responses: {
        '200': json('The video is deleted.', { $ref: '#/components/schemas/OpenAiVideoDeleted' }),
        ...openAiCommonErrors,
        '409': openAiErrorResponse('task_not_finished: the video is still queued or in progress.'),
      },
    },
  },
  '/v1/videos/{video_id}/content': {
    get: {
      operationId: 'downloadVideoContent',
      summary: 'Download the video (OpenAI-compatible)',
      description: 'The MP4 (byte ranges served), or with variant=thumbnail a JPEG frame of it.',
      tags: [openAiTag],
      parameters: [
        videoIdParameter,
        {
          name: 'variant',
          in: 'query',
          description: 'video (the MP4) or thumbnail (a JPEG frame); spritesheet is refused.',
          schema: { type: 'string', enum: ['video', 'thumbnail', 'spritesheet'], default: 'video' },
        },
      ],
      responses: {
        '200': {
          description: 'The file.',
          content: { 'video/mp4': { schema: { type: 'string', format: 'binary' } }, 'image/jpeg': { schema: { type: 'string', format: 'binary' } } },
        },
        '206': { description: 'The byte range asked for with Range.', content: { 'video/mp4': { schema: { type: 'string', format: 'binary' } } } },
        ...openAiCommonErrors,
        '409': openAiErrorResponse('task_not_finished: the video has not completed yet.'),
      },
    },
  },
};

export function buildOpenApiDocument(options: OpenApiOptions = {}) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Wan 2.7 video generation API',
      // The version of the API described (Wan 2.7's), not of this server.
      version: '2.7',
      description:
        'Asynchronous video generation with the Wan 2.7 models: each create-task endpoint answers a task_id, ' +
        `and ${taskResultPath} reports the task until it succeeds or fails. Errors have the body ` +
        '{code, reason, message, metadata}, except under /v1/, the OpenAI-compatible video API, where they have ' +
        "OpenAI's body {error: {message, type, param, code}}. Every endpoint answers CORS preflights (OPTIONS) for the origins the server allows.",
    },
    ...(options.serverUrl === undefined ? {} : { servers: [{ url: options.serverUrl }] }),
    security: [{ bearerAuth: [] }],
    paths: {
      ...Object.fromEntries(models.map((model) => [modelPath(model), { post: createTaskOperation(model) }])),
      [taskResultPath]: { get: taskResultOperation },
      '/v3/async/task-cancel': { post: taskCancelOperation },
      '/v3/async/tasks': { get: taskListOperation },
      '/v3/async/task-events': { get: taskEventsOperation },
      '/v3/async/task-webhooks': { get: taskWebhooksOperation },
      '/v3/webhook-secret': { get: webhookSecretOperation },
      '/v3/usage': { get: usageOperation },
      '/v3/uploads': { post: uploadOperation },
      '/v3/files/{key}': { get: fileOperation },
      '/healthz': { get: healthOperation },
      '/readyz': { get: readinessOperation },
      '/openapi.json': { get: openApiOperation },
      ...openAiVideoPaths,
    },
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'The API key, as `Authorization: Bearer <key>`; a bare key in the header is accepted too.',
        },
      },
      schemas: {
        ...Object.fromEntries(models.map((model) => [requestSchemaName(model), model.schema])),
        TaskCreated: taskCreatedSchema,
        TaskResult: taskResultSchema,
        TaskList: taskListSchema,
        Deliveries: deliveriesSchema,
        WebhookSecret: webhookSecretSchema,
        Usage: usageReportSchema,
        TaskUsage: taskUsageSchema,
        UploadResult: uploadResultSchema,
        Health: healthSchema,
        Readiness: readinessSchema,
        Error: apiErrorBodySchema,
        OpenAiVideoCreateRequest: openAiVideoCreateSchema,
        OpenAiVideo: openAiVideoSchema,
        OpenAiVideoList: openAiVideoListSchema,
        OpenAiVideoDeleted: openAiVideoDeletedSchema,
        OpenAiError: openAiErrorBodySchema,
      },
    },
  };
}
