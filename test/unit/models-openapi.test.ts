import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import type { ModelId } from '../../src/models/model.js';
import { buildOpenApiDocument } from '../../src/models/openapi.js';
import { modelById, modelPath, models } from '../../src/models/registry.js';
import { taskResultSchema } from '../../src/models/task-result-schema.js';

type Document = ReturnType<typeof buildOpenApiDocument>;
type Operation = { requestBody?: { content: Record<string, { schema: { $ref: string } }> }; responses: Record<string, unknown> };

/** Follows a `#/components/schemas/…` reference of the document. */
function resolve(document: Document, reference: { $ref: string }): unknown {
  const name = reference.$ref.replace('#/components/schemas/', '');
  return (document.components.schemas as Record<string, unknown>)[name];
}

describe('registry', () => {
  const ids: ModelId[] = ['wan2.7-t2v', 'wan2.7-i2v', 'wan2.7-r2v', 'wan2.7-videoedit'];

  it('has a model for every model id, under its path', () => {
    assert.deepEqual(models.map((model) => model.id), ids);
    for (const id of ids) {
      assert.equal(modelById(id).id, id);
      assert.equal(modelPath(modelById(id)), `/v3/async/${id}`);
    }
  });

  it('gives each model its task type', () => {
    assert.deepEqual(models.map((model) => model.taskType), ['WAN_2_7_T2V', 'WAN_2_7_I2V', 'WAN_2_7_R2V', 'WAN_2_7_VIDEOEDIT']);
  });
});

describe('OpenAPI document', () => {
  const document = buildOpenApiDocument({ serverUrl: 'https://video.example.com' });
  const paths = document.paths as unknown as Record<string, Record<string, Operation>>;

  it('is OpenAPI 3.1 with the four create-task endpoints, the Task Result, the task lifecycle, webhooks, uploads, files, the probes, itself and the OpenAI-compatible videos', () => {
    // That these are exactly the routes the server registers is checked in test/http/contract.test.ts.
    assert.equal(document.openapi, '3.1.0');
    assert.deepEqual(Object.keys(paths).sort(), [
      '/healthz',
      '/openapi.json',
      '/readyz',
      '/v1/videos',
      '/v1/videos/{video_id}',
      '/v1/videos/{video_id}/content',
      '/v3/async/task-cancel',
      '/v3/async/task-events',
      '/v3/async/task-result',
      '/v3/async/task-webhooks',
      '/v3/async/tasks',
      '/v3/async/wan2.7-i2v',
      '/v3/async/wan2.7-r2v',
      '/v3/async/wan2.7-t2v',
      '/v3/async/wan2.7-videoedit',
      '/v3/files/{key}',
      '/v3/uploads',
      '/v3/usage',
      '/v3/webhook-secret',
    ]);
    assert.deepEqual(Object.keys(paths['/v3/async/task-result']), ['get']);
    assert.deepEqual(Object.keys(paths['/v1/videos']).sort(), ['get', 'post']);
    assert.deepEqual(Object.keys(paths['/v1/videos/{video_id}']).sort(), ['delete', 'get']);
  });

  it('needs no API key for the probes, the document and the signed file URLs, and one for everything else', () => {
    const open = ['/healthz', '/readyz', '/openapi.json', '/v3/files/{key}'];
    for (const [path, operations] of Object.entries(paths)) {
      for (const operation of Object.values(operations) as { security?: unknown[] }[]) {
        assert.deepEqual(operation.security, open.includes(path) ? [] : undefined, path);
      }
    }
  });

  it('answers every operation\'s other failures in the documented error body', () => {
    for (const [path, operations] of Object.entries(paths)) {
      for (const operation of Object.values(operations)) {
        const fallback = operation.responses.default as { content: Record<string, { schema: { $ref: string } }> };
        // The OpenAI-style routes answer in OpenAI's error body.
        const errorSchema = path.startsWith('/v1/') ? '#/components/schemas/OpenAiError' : '#/components/schemas/Error';
        assert.equal(fallback.content['application/json'].schema.$ref, errorSchema, path);
      }
    }
  });

  it('describes each request body with the very schema that validates it', () => {
    for (const model of models) {
      const operation = paths[modelPath(model)].post;
      const reference = operation.requestBody?.content['application/json'].schema;
      assert.ok(reference);
      assert.equal(resolve(document, reference), model.schema);
    }
  });

  it('answers task_id, and errors in the documented shape', () => {
    const serialized = JSON.parse(JSON.stringify(document));
    const created = paths['/v3/async/wan2.7-t2v'].post.responses['200'] as { content: Record<string, { schema: { $ref: string } }> };
    const taskCreated = resolve(serialized, created.content['application/json'].schema) as { required: string[]; properties: object };
    assert.deepEqual(taskCreated.required, ['task_id']);
    assert.deepEqual(Object.keys(taskCreated.properties), ['task_id']);
    const error = resolve(serialized, { $ref: '#/components/schemas/Error' }) as { required: string[] };
    assert.deepEqual(error.required, ['code', 'reason', 'message', 'metadata']);
    for (const model of models) {
      const responses = paths[modelPath(model)].post.responses as Record<string, { content?: Record<string, { schema: { $ref: string } }> }>;
      assert.equal(responses['400'].content?.['application/json'].schema.$ref, '#/components/schemas/Error');
    }
  });

  it('describes the Task Result with the schema the server types its answer with', () => {
    const response = paths['/v3/async/task-result'].get.responses['200'] as { content: Record<string, { schema: { $ref: string } }> };
    assert.equal(resolve(document, response.content['application/json'].schema), taskResultSchema);
  });

  it('names the server when given one, and a bearer security scheme', () => {
    assert.deepEqual(document.servers, [{ url: 'https://video.example.com' }]);
    assert.equal('servers' in buildOpenApiDocument({}), false);
    assert.deepEqual(document.components.securitySchemes.bearerAuth.scheme, 'bearer');
    assert.deepEqual(document.security, [{ bearerAuth: [] }]);
  });

  it('survives JSON serialization', () => {
    const json = JSON.parse(JSON.stringify(document));
    assert.equal(json.components.schemas.Wan27T2vRequest.properties.duration.maximum, 15);
  });
});

describe('Task Result schema', () => {
  const validate = new Ajv({ strict: true }).compile(taskResultSchema);

  it('accepts the documented example', () => {
    const example = {
      task: {
        task_id: 'f2a1…',
        task_type: 'WAN_2_7_T2V',
        status: 'TASK_STATUS_SUCCEED',
        reason: '',
        eta: 0,
        progress_percent: 100,
      },
      images: [],
      videos: [{ video_url: 'https://example.com/v.mp4', video_url_ttl: '3600', video_type: 'mp4' }],
      audios: [],
      extra: {
        seed: '123',
        debug_info: { request_info: '', submit_time_ms: '1', execute_time_ms: '2', complete_time_ms: '3' },
      },
    };
    assert.ok(validate(example), JSON.stringify(validate.errors));
  });

  it('refuses an unknown status', () => {
    assert.equal(
      validate({ task: { task_id: 'x', task_type: 'WAN_2_7_T2V', status: 'DONE', reason: '', eta: 0, progress_percent: 0 } }),
      false,
    );
  });
});
