import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError, invalidRequest } from '../../src/spec/api-error.js';
import type { TaskRecord } from '../../src/spec/task-store.js';
import { TaskStatus } from '../../src/spec/task-status.js';
import { i2v } from '../../src/models/i2v.js';
import { r2v } from '../../src/models/r2v.js';
import { t2v } from '../../src/models/t2v.js';
import { videoedit } from '../../src/models/videoedit.js';
import { validateRequest } from '../../src/models/validate-request.js';
import type { ModelDefinition } from '../../src/models/model.js';
import { setField } from '../../src/http/routes/openai-videos/form-body.js';
import { isOpenAiRequest, openAiError } from '../../src/http/routes/openai-videos/openai-errors.js';
import { chooseModel, nativeRequest, referenceUrl, renamed } from '../../src/http/routes/openai-videos/request-mapping.js';
import { typedFromText } from '../../src/http/routes/openai-videos/text-values.js';
import { openAiVideo } from '../../src/http/routes/openai-videos/video-object.js';

/** The refusal a call throws, for assertions on its message and metadata. */
function refusal(call: () => unknown): ApiError {
  try {
    call();
  } catch (error) {
    assert.ok(error instanceof ApiError, String(error));
    return error;
  }
  assert.fail('expected a refusal');
}

function form(entries: [string, unknown][]): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [name, value] of entries) setField(fields, name, value, 100);
  return fields;
}

const asModel = (model: unknown) => model as ModelDefinition;

describe('form field names', () => {
  it('nest bracketed names into objects and lists', () => {
    assert.deepEqual(
      form([
        ['prompt', 'waves'],
        ['input_reference[image_url]', 'https://example.com/a.png'],
        ['tags[]', 'a'],
        ['tags[]', 'b'],
        ['pair[1]', 'second'],
        ['pair[0]', 'first'],
        ['extra[webhook][url]', 'https://example.com/hook'],
      ]),
      {
        prompt: 'waves',
        input_reference: { image_url: 'https://example.com/a.png' },
        tags: ['a', 'b'],
        pair: ['first', 'second'],
        extra: { webhook: { url: 'https://example.com/hook' } },
      },
    );
  });

  it('start a new item of a list of objects when the last one already has the field (as the SDK writes media)', () => {
    assert.deepEqual(
      form([
        ['media[][type]', 'reference_image'],
        ['media[][url]', 'https://example.com/a.png'],
        ['media[][type]', 'reference_video'],
        ['media[][url]', 'https://example.com/b.mp4'],
        ['media[][reference_voice]', 'https://example.com/b.wav'],
      ]).media,
      [
        { type: 'reference_image', url: 'https://example.com/a.png' },
        { type: 'reference_video', url: 'https://example.com/b.mp4', reference_voice: 'https://example.com/b.wav' },
      ],
    );
  });

  it('refuse a field sent twice, a value that is also an object, prototype names and lists past the limit', () => {
    assert.equal(refusal(() => form([['prompt', 'a'], ['prompt', 'b']])).message, 'prompt is sent more than once');
    assert.equal(refusal(() => form([['seed', '1'], ['seed[x]', '2']])).message, 'seed[x] is sent both as a value and as a list or object');
    assert.match(refusal(() => form([['extra[__proto__][polluted]', '1']])).message, /may not contain "__proto__"/);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.match(refusal(() => form([['a]b', '1']])).message, /is not of the form name, name\[key\] or name\[\]/);
    const fields: Record<string, unknown> = {};
    assert.equal(refusal(() => setField(fields, 'media[7]', 'x', 5)).metadata.limit, 5);
  });
});

describe('text values', () => {
  it('are read as the types the schema declares, and left as text where they do not parse', () => {
    assert.deepEqual(
      typedFromText(
        { seed: '42', duration: '4', watermark: 'true', prompt_extend: 'false', prompt: '123', audio_url: 'https://a/b.mp3', size: '1280*720' },
        t2v.schema,
      ),
      { seed: 42, duration: 4, watermark: true, prompt_extend: false, prompt: '123', audio_url: 'https://a/b.mp3', size: '1280*720' },
    );
    assert.deepEqual(typedFromText({ seed: 'forty', watermark: 'yes' }, t2v.schema), { seed: 'forty', watermark: 'yes' });
    assert.deepEqual(typedFromText({ media: '[{"type":"reference_image","url":"https://a/b.png"}]' }, r2v.schema), {
      media: [{ type: 'reference_image', url: 'https://a/b.png' }],
    });
    assert.deepEqual(typedFromText({ media: [{ type: 'reference_image', url: 'u' }], audio: 'false' }, r2v.schema), {
      media: [{ type: 'reference_image', url: 'u' }],
      audio: false,
    });
  });
});

describe('the model of a request', () => {
  it('is the one named, else i2v with a first frame and t2v without', () => {
    assert.equal(chooseModel({ model: 'wan2.7-videoedit' }, false).id, videoedit.id);
    assert.equal(chooseModel({}, true).id, i2v.id);
    assert.equal(chooseModel({ input_reference: { image_url: 'https://a/b.png' } }, false).id, i2v.id);
    assert.equal(chooseModel({ prompt: 'x' }, false).id, t2v.id);
  });

  it('is refused when it is not one of ours, with the list of ours', () => {
    const error = refusal(() => chooseModel({ model: 'sora-2' }, false));
    assert.equal(error.message, 'model must be one of wan2.7-t2v, wan2.7-i2v, wan2.7-r2v, wan2.7-videoedit, got "sora-2"');
    assert.equal(error.metadata.field, 'model');
  });
});

describe('the native request', () => {
  it('t2v and r2v: seconds is the duration and size the exact size', () => {
    const { body, renames } = nativeRequest(asModel(t2v), { model: 't2v', prompt: 'fox', seconds: '4', size: '720x1280', seed: 7 }, false, undefined);
    assert.deepEqual(body, { prompt: 'fox', duration: 4, size: '720*1280', seed: 7 });
    assert.deepEqual([...renames], [['duration', 'seconds']]);
    assert.equal(nativeRequest(asModel(r2v), { size: '960*960', seconds: 3 }, false, undefined).body.size, '960*960');
  });

  it('i2v: size picks the tier, and the first frame is image_url', () => {
    const reference = { url: 'https://server/v3/files/uploads/x/a.png', field: 'input_reference' };
    const { body, renames } = nativeRequest(asModel(i2v), { prompt: 'p', size: '1920x1080', seconds: '4' }, false, reference);
    assert.deepEqual(body, { prompt: 'p', duration: 4, resolution: '1080P', image_url: reference.url });
    assert.equal(renames.get('resolution'), 'size');
    assert.equal(renames.get('image_url'), 'input_reference');
    assert.equal(nativeRequest(asModel(i2v), { size: '720x1280' }, false, undefined).body.resolution, '720P');
  });

  it("videoedit: size is the tier and the ratio of videoedit's own table", () => {
    assert.deepEqual(nativeRequest(asModel(videoedit), { size: '1104x832', video_url: 'https://a/b.mp4' }, false, undefined).body, {
      video_url: 'https://a/b.mp4',
      resolution: '720P',
      ratio: '4:3',
    });
    assert.match(refusal(() => nativeRequest(asModel(videoedit), { size: '1088x832' }, false, undefined)).message, /^size must be one of 1280x720, .*1104x832/);
  });

  it('r2v: the first frame is a media item of type first_frame, after the ones sent', () => {
    const reference = { url: 'https://a/first.png', field: 'input_reference.image_url' };
    const media = [{ type: 'reference_image', url: 'https://a/ref.png' }];
    const { body, renames } = nativeRequest(asModel(r2v), { prompt: 'character1', media }, false, reference);
    assert.deepEqual(body.media, [...media, { type: 'first_frame', url: reference.url }]);
    assert.equal(renames.get('media[1].url'), 'input_reference.image_url');
  });

  it('form text is read by the types of the chosen model', () => {
    const { body } = nativeRequest(asModel(t2v), { prompt: 'p', seed: '42', watermark: 'true', seconds: '4' }, true, undefined);
    assert.deepEqual(body, { prompt: 'p', seed: 42, watermark: true, duration: 4 });
  });

  it('refuses a size off the model\'s table, a setting given twice, and a first frame for a model without one', () => {
    const offTable = refusal(() => nativeRequest(asModel(t2v), { size: '1792x1024' }, false, undefined));
    assert.equal(offTable.metadata.field, 'size');
    assert.match(offTable.message, /^size must be one of 1280x720, 720x1280, 960x960, 1088x832, 832x1088, 1920x1080, .*got "1792x1024"/);
    const twice = refusal(() => nativeRequest(asModel(t2v), { seconds: '4', duration: 5 }, false, undefined));
    assert.equal(twice.message, 'seconds and duration set the same thing: send one of them');
    assert.equal(refusal(() => nativeRequest(asModel(i2v), { size: '1280x720', resolution: '720P' }, false, undefined)).metadata.field, 'size');
    const noFrame = refusal(() => nativeRequest(asModel(t2v), { prompt: 'p' }, false, { url: 'https://a/b.png', field: 'input_reference' }));
    assert.equal(noFrame.message, 'input_reference: wan2.7-t2v takes no first frame; use wan2.7-i2v (a video from the image) or wan2.7-r2v (a first_frame item)');
  });

  it('input_reference takes {"image_url"} only; file_id is refused by name', () => {
    assert.equal(referenceUrl({ input_reference: { image_url: 'https://a/b.png' } }), 'https://a/b.png');
    assert.equal(referenceUrl({ prompt: 'x' }), undefined);
    assert.equal(refusal(() => referenceUrl({ input_reference: { file_id: 'file_1' } })).metadata.field, 'input_reference.file_id');
    assert.equal(refusal(() => referenceUrl({ input_reference: 'https://a/b.png' })).message, 'input_reference must be an object, got "https://a/b.png"');
    assert.equal(refusal(() => referenceUrl({ input_reference: {} })).message, 'input_reference.image_url is required');
  });
});

describe('refusals of the native request', () => {
  it('name the fields as the client sent them, with the native rule and value', () => {
    const { body, renames } = nativeRequest(asModel(t2v), { prompt: 'p', seconds: '40', negative_promt: 'x' }, false, undefined);
    const native = refusal(() => validateRequest(t2v, body));
    const error = renamed(native, renames);
    assert.equal(error.metadata.field, 'negative_promt');
    assert.deepEqual(
      (error.metadata.errors as { field: string; message: string }[]).map((problem) => problem.field),
      ['negative_promt', 'seconds'],
    );
    const duration = refusal(() => validateRequest(t2v, { prompt: 'p', duration: 40 }));
    const seconds = renamed(duration, renames);
    assert.equal(seconds.message, 'seconds must be an integer between 2 and 15, got 40');
    assert.deepEqual(seconds.metadata, { ...duration.metadata, field: 'seconds' });
    const untouched = invalidRequest('prompt', 'prompt is required');
    assert.equal(renamed(untouched, renames), untouched);
  });
});

describe('the Video object', () => {
  const base: TaskRecord = {
    id: '0193-a',
    keyId: 'k',
    model: 'wan2.7-t2v',
    status: TaskStatus.Queued,
    request: { prompt: 'a fox', size: '1280*720', duration: 4 },
    seed: 1,
    engine: null,
    operation: null,
    progressPercent: 0,
    etaSeconds: 0,
    error: null,
    results: [],
    resultsExpiredAt: null,
    extra: {},
    usage: null,
    webhookUrl: null,
    attempts: 0,
    leaseOwner: null,
    leaseExpiresAt: null,
    createdAt: 1_700_000_000_500,
    startedAt: null,
    completedAt: null,
    version: 1,
  };
  const week = 7 * 24 * 3600 * 1000;

  it('shows a queued task with its request, times in Unix seconds', () => {
    assert.deepEqual(openAiVideo(base, week), {
      id: '0193-a',
      object: 'video',
      model: 'wan2.7-t2v',
      status: 'queued',
      progress: 0,
      created_at: 1_700_000_000,
      completed_at: null,
      expires_at: null,
      seconds: '4',
      size: '1280x720',
      prompt: 'a fox',
      remixed_from_video_id: null,
      error: null,
    });
  });

  it('maps each status; a completed video expires with retention, a failed one carries its error', () => {
    assert.equal(openAiVideo({ ...base, status: TaskStatus.Processing, progressPercent: 40 }, week).status, 'in_progress');
    assert.equal(openAiVideo({ ...base, status: TaskStatus.Processing, progressPercent: 40 }, week).progress, 40);
    const done = openAiVideo({ ...base, status: TaskStatus.Succeed, progressPercent: 100, completedAt: 1_700_000_060_000 }, week);
    assert.deepEqual([done.status, done.progress, done.completed_at, done.expires_at], ['completed', 100, 1_700_000_060, 1_700_000_060 + week / 1000]);
    const expired = openAiVideo({ ...base, status: TaskStatus.Succeed, completedAt: 1_700_000_060_000, resultsExpiredAt: 1_700_000_100_000 }, week);
    assert.equal(expired.expires_at, 1_700_000_100);
    const failed = openAiVideo(
      { ...base, status: TaskStatus.Failed, completedAt: 1_700_000_010_000, error: { code: 400, reason: 'MEDIA_DOWNLOAD_FAILED', message: 'image_url: cannot download', metadata: {} } },
      week,
    );
    assert.deepEqual([failed.status, failed.expires_at, failed.error], ['failed', null, { code: 'media_download_failed', message: 'image_url: cannot download' }]);
  });

  it('i2v and videoedit: the rendered size once reported, the tier (or videoedit ratio) before; videoedit duration 0 is the rendered length', () => {
    const image = { ...base, model: 'wan2.7-i2v' as const, request: { image_url: 'u', resolution: '720P', duration: 5 } };
    assert.equal(openAiVideo(image, week).size, '1280x720');
    assert.equal(openAiVideo({ ...image, extra: { width: 960, height: 960 } }, week).size, '960x960');
    assert.equal(openAiVideo({ ...image, request: { image_url: 'u', resolution: '1080P', duration: 5 } }, week).size, '1920x1080');
    const edit = { ...base, model: 'wan2.7-videoedit' as const, request: { video_url: 'u', resolution: '720P', ratio: '3:4', duration: 0 } };
    assert.deepEqual([openAiVideo(edit, week).size, openAiVideo(edit, week).seconds, openAiVideo(edit, week).prompt], ['832x1104', '0', null]);
    assert.equal(openAiVideo({ ...edit, extra: { duration_seconds: 3.04 } }, week).seconds, '3');
  });
});

describe('OpenAI error bodies', () => {
  it('carry the native message, the field as param and the reason as code, with the status the SDK expects', () => {
    assert.deepEqual(openAiError(invalidRequest('size', 'size must be one of …')), {
      status: 400,
      retry: false,
      body: { error: { message: 'size must be one of …', type: 'invalid_request_error', param: 'size', code: 'invalid_request_body' } },
    });
    const missing = openAiError(new ApiError(400, 'MISSING_API_KEY', 'missing API key'));
    assert.deepEqual([missing.status, missing.body.error.type, missing.body.error.code, missing.body.error.param], [401, 'authentication_error', 'missing_api_key', null]);
    assert.equal(openAiError(new ApiError(403, 'INVALID_API_KEY', 'x')).status, 401);
    const limited = openAiError(new ApiError(429, 'RATE_LIMIT_EXCEEDED', 'x', {}, true, 5));
    assert.deepEqual([limited.status, limited.retry, limited.body.error.type], [429, true, 'rate_limit_error']);
    assert.equal(openAiError(new ApiError(503, 'STORAGE_FULL', 'x', {}, true)).body.error.type, 'server_error');
    assert.equal(openAiError(new ApiError(409, 'TASK_NOT_FINISHED', 'x')).status, 409);
  });

  it('are chosen by the /v1/ prefix', () => {
    assert.equal(isOpenAiRequest('/v1/videos?limit=2'), true);
    assert.equal(isOpenAiRequest('/v1/chat/completions'), true);
    assert.equal(isOpenAiRequest('/v3/async/task-result'), false);
  });
});
