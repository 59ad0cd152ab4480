import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createRejection, describeDashScopeError, taskFailure } from '../../src/engines/dashscope/dashscope-errors.js';
import { UpstreamHttp } from '../../src/engines/upstream/upstream-http.js';
import { ApiError } from '../../src/spec/api-error.js';
import { EngineUnavailable } from '../../src/spec/engine.js';

const apiKey = 'sk-dashscope-secret-abcdef';
const http = new UpstreamHttp({
  engine: 'dashscope',
  baseUrl: 'https://dashscope-intl.aliyuncs.com',
  apiKey,
  timeoutMs: 1000,
  maxConcurrentRequests: 1,
  describeError: describeDashScopeError,
});

function answer(status: number, code: string, message: string, retryAfterMs?: number) {
  return { status, body: { code, message, request_id: 'r-1' }, retryAfterMs };
}

describe('DashScope create errors', () => {
  const table: { status: number; code: string; message: string; expect: string }[] = [
    { status: 400, code: 'InvalidParameter', message: 'The size is invalid', expect: 'ApiError 400 INVALID_REQUEST_BODY' },
    { status: 400, code: 'InvalidParameter.DataInspection', message: 'The media format is not supported', expect: 'ApiError 400 INVALID_REQUEST_BODY' },
    { status: 400, code: 'DataInspectionFailed', message: 'Input data may contain inappropriate content.', expect: 'ApiError 400 ILLEGAL_PROMPT' },
    { status: 400, code: 'DataInspectionFailed', message: 'Input image data may contain inappropriate content.', expect: 'ApiError 400 ILLEGAL_IMAGE_CONTENT' },
    { status: 400, code: 'IPInfringementSuspect', message: 'Input data is suspected of being involved in IP infringement.', expect: 'ApiError 400 ILLEGAL_PROMPT' },
    { status: 400, code: 'Arrearage', message: 'Access denied, please make sure your account is in good standing.', expect: 'EngineUnavailable' },
    { status: 400, code: 'Throttling.AllocationQuota', message: 'Allocated quota exceeded', expect: 'EngineUnavailable' },
    { status: 404, code: 'ModelNotFound', message: 'Model not exist.', expect: 'EngineUnavailable' },
    { status: 409, code: 'Conflict', message: 'odd', expect: 'ApiError 500 TASK_FAILED' },
  ];

  for (const row of table) {
    test(`HTTP ${row.status} ${row.code} → ${row.expect}`, () => {
      const error = createRejection(http, answer(row.status, row.code, row.message));
      const shown = error instanceof ApiError ? `ApiError ${error.status} ${error.reason}` : error.constructor.name;
      assert.equal(shown, row.expect);
      if (error instanceof ApiError) {
        assert.equal(error.metadata.upstream_code, row.code);
        assert.ok(error.message.includes(row.message), error.message);
      }
    });
  }

  test('an account problem says it is the server\'s configuration, for the log', () => {
    const error = createRejection(http, answer(400, 'Arrearage', 'Access denied'));
    assert.ok(error instanceof EngineUnavailable);
    assert.match(error.message, /^server configuration problem: .*Arrearage/);
  });

  test('throttling carries Retry-After', () => {
    const error = createRejection(http, answer(400, 'Throttling.RateQuota', 'Requests rate limit exceeded', 9000));
    assert.ok(error instanceof EngineUnavailable);
    assert.equal(error.retryAfterMs, 9000);
  });

  test('a message quoting the key loses the key', () => {
    const error = createRejection(http, answer(400, 'InvalidParameter', `bad header Bearer ${apiKey}`));
    assert.ok(!error.message.includes(apiKey));
    assert.match(error.message, /\[redacted\]/);
  });
});

describe('DashScope task failures', () => {
  const table: { code: string; message: string; expect: string }[] = [
    { code: 'DataInspectionFailed', message: 'Output data may contain inappropriate content.', expect: '400 ILLEGAL_PROMPT' },
    { code: 'DataInspectionFailed', message: 'Input video may contain inappropriate content.', expect: '400 ILLEGAL_IMAGE_CONTENT' },
    { code: 'InvalidParameter', message: 'The image of first_frame is too small', expect: '400 INVALID_REQUEST_BODY' },
    { code: 'InvalidParameter.FileDownload', message: 'Failed to download the file', expect: '400 INVALID_REQUEST_BODY' },
    { code: 'InternalError.Algo', message: 'An internal error has occured during algorithm execution.', expect: '500 TASK_FAILED' },
    { code: '', message: '', expect: '500 TASK_FAILED' },
  ];
  for (const row of table) {
    test(`FAILED ${row.code || '(no code)'} → ${row.expect}`, () => {
      const error = taskFailure('dashscope', row.code, row.message);
      assert.equal(`${error.status} ${error.reason}`, row.expect);
      assert.equal(error.metadata.upstream_code, row.code);
      assert.equal(error.metadata.engine, 'dashscope');
    });
  }

  test('an internal failure names the upstream code and message', () => {
    const error = taskFailure('dashscope', 'InternalError.Algo', 'boom');
    assert.equal(error.message, 'the dashscope upstream failed the task: InternalError.Algo: boom');
  });
});
