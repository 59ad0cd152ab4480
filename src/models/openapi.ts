import type { ModelDefinition } from './model.js';
import { modelPath, models } from './registry.js';
import { apiErrorBodySchema, taskCreatedSchema, taskResultSchema } from './task-result-schema.js';

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
      '500': errorResponse('CREATE_TASK_FAILED: the task could not be stored (retry); INTERNAL_ERROR.'),
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
        `and ${taskResultPath} reports the task until it succeeds or fails. Errors always have the body ` +
        '{code, reason, message, metadata}.',
    },
    ...(options.serverUrl === undefined ? {} : { servers: [{ url: options.serverUrl }] }),
    security: [{ bearerAuth: [] }],
    paths: {
      ...Object.fromEntries(models.map((model) => [modelPath(model), { post: createTaskOperation(model) }])),
      [taskResultPath]: { get: taskResultOperation },
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
        Error: apiErrorBodySchema,
      },
    },
  };
}
