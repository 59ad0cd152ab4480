import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI, {
  AuthenticationError,
  BadRequestError,
  ConflictError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
  toFile,
  UnprocessableEntityError,
} from 'openai';
import type { Video } from 'openai/resources/videos';
import { pino } from 'pino';
import { CachedAuthenticator, createApiKey } from '../../src/auth/api-keys.js';
import { LocalBlobStore } from '../../src/blobs/local/local-blob-store.js';
import { UrlSigner } from '../../src/blobs/url-signer.js';
import { resultThumbnailKey } from '../../src/blobs/blob-key.js';
import { loadConfig } from '../../src/config.js';
import { createServer, httpSettingsOf } from '../../src/http/create-server.js';
import { resolveFfmpeg } from '../../src/media/ffmpeg-binaries.js';
import { megabyte } from '../../src/models/media-limits.js';
import { buildOpenApiDocument } from '../../src/models/openapi.js';
import type { DiskState } from '../../src/spec/disk-state.js';
import { openStore } from '../../src/store/open-store.js';
import { TaskService } from '../../src/tasks/task-service.js';
import { FakeEngine } from '../support/fake-engine.js';
import { startInProcessServer } from '../support/in-process-server.js';
import { makeImage, padToSize, testToolchain } from '../support/media-fixtures.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * `/v1/videos` through the official `openai` SDK (and plain fetch where the SDK cannot send what
 * is tested) on a whole server whose engine pretends to render. The MP4s, thumbnails and the real
 * renderer are in test/e2e/openai-sdk-videos.test.ts.
 */
const toolchain = await testToolchain();
const fixtures = tempDir('wan-openai-');
const photo = await makeImage(toolchain, path.join(fixtures, 'photo.png'), { width: 480, height: 320 });
const gif = await makeImage(toolchain, path.join(fixtures, 'anim.gif'), { width: 300, height: 300, colour: 'teal' });
const oversized = await padToSize(await makeImage(toolchain, path.join(fixtures, 'big.png'), { width: 320, height: 320 }), 20 * megabyte + 1);
const { server, client, newClient, dataDir } = await startInProcessServer([new FakeEngine({ renderMs: 50 })]);
const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: client.apiKey, maxRetries: 0 });
const uploadsDir = path.join(dataDir, 'blobs', 'uploads');
const storedUploads = () => (existsSync(uploadsDir) ? readdirSync(uploadsDir, { recursive: true }).filter((entry) => String(entry).includes('.')) : []);

/** Our model ids are not in the SDK's list of OpenAI's; its type takes any string. */
const model = (id: string) => id as OpenAI.Videos.VideoModel;
/** Sizes of our tables beyond the four the SDK's type lists. */
const size = (value: string) => value as OpenAI.Videos.VideoSize;

async function untilEnded(sdk: OpenAI, id: string): Promise<Video> {
  for (let video = await sdk.videos.retrieve(id); ; video = await sdk.videos.retrieve(id)) {
    if (video.status === 'completed' || video.status === 'failed') return video;
    await sleep(50);
  }
}

/** The rejection of an SDK call, checked to be of `Class`. */
async function rejection<T extends abstract new (...args: any) => Error>(call: Promise<unknown>, Class: T): Promise<InstanceType<T>> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof Class, `expected ${Class.name}, got ${String(error)}`);
    return error as InstanceType<T>;
  }
  assert.fail(`expected ${Class.name}, the call succeeded`);
}

async function v1(pathAndQuery: string, init: RequestInit = {}, apiKey = client.apiKey) {
  const response = await fetch(`${server.url}/v1${pathAndQuery}`, {
    ...init,
    headers: { authorization: `Bearer ${apiKey}`, ...(init.headers as Record<string, string>) },
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: text.startsWith('{') ? JSON.parse(text) : undefined };
}

const postJson = (body: unknown) => v1('/videos', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

function formOf(entries: [string, string | Blob, string?][]): FormData {
  const form = new FormData();
  for (const [name, value, fileName] of entries) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, value, fileName);
  }
  return form;
}

const storedRequest = async (id: string) => (await server.store.tasks.get(id))!.request;

/**
 * A server whose tasks never run, with a task service whose limits and disk the tests set: for
 * the answers to videos in flight, rate limits and a full disk.
 */
async function startIdleServer() {
  const config = loadConfig({ flags: { data_dir: tempDir(), log_level: 'silent' } });
  const store = await openStore(config);
  let baseUrl = '';
  const blobs = new LocalBlobStore(path.join(config.data_dir, 'blobs'), new UrlSigner('secret'), () => baseUrl);
  const state = { diskProblem: undefined as string | undefined, limited: new Set<string>() };
  const disk: DiskState = { problem: () => state.diskProblem, reportFailure: () => undefined, reserve: () => () => undefined };
  const tasks = new TaskService({
    store: store.tasks,
    blobs,
    resultUrlTtlSeconds: 3600,
    disk,
    admission: (key) => (state.limited.has(key.id) ? { maxInFlight: 0 } : undefined),
  });
  const http = createServer({
    tasks,
    auth: new CachedAuthenticator(store.keys, 0),
    blobs,
    uploads: store.uploads,
    store,
    logger: pino({ level: 'silent' }),
    maxBodyBytes: config.max_body_bytes,
    uploadUrlTtlSeconds: 3600,
    httpSettings: httpSettingsOf(config),
    toolchain: await resolveFfmpeg(),
    resultRetentionMs: config.result_retention_hours * 3600 * 1000,
    isReady: async () => ({ ready: true, checks: {} }),
  });
  await http.listen({ host: '127.0.0.1', port: 0 });
  after(async () => {
    await http.close();
    await store.close();
  });
  const address = http.server.address();
  baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const newKey = async () => createApiKey(store.keys, 'test', Date.now());
  return { baseUrl, store, state, newKey };
}

const idle = await startIdleServer();

test('the SDK creates a text-to-video with our model and its own fields; the same task is read through both APIs', async () => {
  const created = await openai.videos.create({
    model: model('wan2.7-t2v'),
    prompt: 'a paper boat',
    seconds: '4',
    size: '1280x720',
    // Fields of the model itself: the SDK sends any field it is given.
    ...({ negative_prompt: 'blur', seed: 42, watermark: true } as object),
  });
  assert.equal(created.object, 'video');
  assert.equal(created.model, 'wan2.7-t2v');
  assert.ok(['queued', 'in_progress'].includes(created.status), created.status);
  assert.deepEqual([created.seconds, created.size, created.prompt, created.error, created.completed_at], ['4', '1280x720', 'a paper boat', null, null]);
  assert.ok(Math.abs(created.created_at - Date.now() / 1000) < 5);
  assert.deepEqual(await storedRequest(created.id), {
    prompt: 'a paper boat',
    negative_prompt: 'blur',
    seed: 42,
    watermark: true,
    duration: 4,
    size: '1280*720',
    prompt_extend: true,
  });

  const done = await untilEnded(openai, created.id);
  assert.equal(done.status, 'completed');
  assert.equal(done.progress, 100);
  assert.ok(done.completed_at! >= done.created_at);
  assert.equal(done.expires_at, done.completed_at! + 7 * 24 * 3600);

  const native = await client.result(created.id);
  assert.equal(native.status, 200);
  assert.equal(native.body.task.task_id, created.id);
  assert.equal(native.body.task.status, 'TASK_STATUS_SUCCEED');
  assert.equal(native.body.extra.seed, '42');
  // And a task made through the native API is a video of this one.
  const { body } = await client.submit('wan2.7-r2v', { prompt: 'character1', media: [{ type: 'reference_image', url: 'https://example.com/a.png' }], size: '960*960', duration: 3 });
  const seen = await openai.videos.retrieve(body.task_id);
  assert.deepEqual([seen.model, seen.size, seen.seconds], ['wan2.7-r2v', '960x960', '3']);
});

test('an image file as input_reference is the first frame: stored as an upload, which the task reads from the store', async () => {
  const before = storedUploads().length;
  const created = await openai.videos.create({
    model: model('wan2.7-i2v'),
    prompt: 'the boat sails away',
    seconds: '4',
    size: '1280x720',
    input_reference: await toFile(await readFile(photo), 'my frame.png', { type: 'image/png' }),
  });
  const request = await storedRequest(created.id);
  assert.equal(request.resolution, '720P');
  assert.match(request.image_url as string, new RegExp(`^${server.url}/v3/files/uploads/[0-9a-f-]{36}/my-frame\\.png\\?`));
  assert.equal(storedUploads().length, before + 1);
  assert.deepEqual(Buffer.from(await (await fetch(request.image_url as string)).arrayBuffer()), await readFile(photo));
  // The default address policy refuses loopback: success means the frame was read from the store.
  const done = await untilEnded(openai, created.id);
  assert.equal(done.status, 'completed', done.error?.message);
  assert.equal(done.size, '1280x720');
});

test('JSON bodies work too: input_reference.image_url as a URL or a data: URL, and the model defaults to i2v with a first frame', async () => {
  const byUrl = await postJson({ prompt: 'p', seconds: 3, size: '1080*1920', input_reference: { image_url: 'https://example.com/frame.png' } });
  assert.equal(byUrl.status, 200, byUrl.text);
  assert.equal(byUrl.body.model, 'wan2.7-i2v');
  assert.deepEqual(await storedRequest(byUrl.body.id), {
    prompt: 'p',
    duration: 3,
    resolution: '1080P',
    image_url: 'https://example.com/frame.png',
    prompt_extend: true,
    watermark: false,
  });

  const before = storedUploads().length;
  const dataUrl = `data:image/png;base64,${(await readFile(photo)).toString('base64')}`;
  const byData = await postJson({ model: 'wan2.7-i2v', prompt: 'p', input_reference: { image_url: dataUrl } });
  assert.equal(byData.status, 200, byData.text);
  assert.match((await storedRequest(byData.body.id)).image_url as string, /\/v3\/files\/uploads\/.*\/upload\.png\?/);
  assert.equal(storedUploads().length, before + 1);
  assert.equal((await untilEnded(openai, byData.body.id)).status, 'completed');

  const notHttp = await postJson({ prompt: 'p', input_reference: { image_url: 'ftp://example.com/a.png' } });
  assert.equal(notHttp.body.error.param, 'input_reference.image_url');
  assert.equal(notHttp.body.error.message, 'input_reference.image_url must be an http(s) URL, got "ftp://example.com/a.png"');
  const notBase64 = await postJson({ prompt: 'p', input_reference: { image_url: 'data:image/png,rawbytes' } });
  assert.match(notBase64.body.error.message, /a data: URL must hold its image in base64/);
  const fileId = await postJson({ prompt: 'p', input_reference: { file_id: 'file_abc' } });
  assert.equal(fileId.body.error.param, 'input_reference.file_id');
});

test('r2v takes the first frame as a first_frame item, videoedit size as tier and ratio; t2v refuses a first frame and keeps nothing', async () => {
  const r2v = await openai.videos.create({
    model: model('wan2.7-r2v'),
    prompt: 'character1 waves',
    size: size('960x960'),
    input_reference: await toFile(await readFile(photo), 'first.png'),
    ...({ media: [{ type: 'reference_image', url: 'https://example.com/a.png' }] } as object),
  });
  const media = (await storedRequest(r2v.id)).media as { type: string; url: string }[];
  assert.deepEqual(media.map((item) => item.type), ['reference_image', 'first_frame']);
  assert.match(media[1].url, /\/v3\/files\/uploads\//);

  const edit = await postJson({ model: 'wan2.7-videoedit', prompt: 'clay', video_url: 'https://example.com/in.mp4', size: '832x1104' });
  assert.equal(edit.status, 200, edit.text);
  const request = await storedRequest(edit.body.id);
  assert.deepEqual([request.resolution, request.ratio, edit.body.size], ['720P', '3:4', '832x1104']);

  const before = storedUploads().length;
  const refused = await rejection(
    openai.videos.create({ model: model('wan2.7-t2v'), prompt: 'p', input_reference: await toFile(await readFile(photo), 'f.png') }),
    BadRequestError,
  );
  assert.equal(refused.param, 'input_reference');
  assert.match(refused.message, /wan2\.7-t2v takes no first frame; use wan2\.7-i2v/);
  assert.equal(storedUploads().length, before, 'the refused request left its frame behind');
});

test('refusals read as the native API\'s, naming the fields as the client sent them', async () => {
  const cases: { openAi: Record<string, unknown>; native: Record<string, unknown>; param: string }[] = [
    { openAi: { prompt: 'p', seconds: '16' }, native: { prompt: 'p', duration: 16 }, param: 'seconds' },
    { openAi: { prompt: 'p', seconds: 'four' }, native: { prompt: 'p', duration: 'four' }, param: 'seconds' },
    { openAi: { prompt: 'p', negative_promt: 'x' }, native: { prompt: 'p', negative_promt: 'x' }, param: 'negative_promt' },
    { openAi: { prompt: 'p', seed: -1 }, native: { prompt: 'p', seed: -1 }, param: 'seed' },
    { openAi: { seconds: '4' }, native: { duration: 4 }, param: 'prompt' },
  ];
  for (const { openAi, native, param } of cases) {
    const expected = (await client.submit('wan2.7-t2v', native)).body;
    const answer = await postJson({ model: 'wan2.7-t2v', ...openAi });
    assert.equal(answer.status, 400, JSON.stringify(openAi));
    assert.deepEqual(answer.body, {
      error: {
        message: expected.message.replace(/^duration/, 'seconds'),
        type: 'invalid_request_error',
        param,
        code: 'invalid_request_body',
      },
    });
  }
  const size = await rejection(openai.videos.create({ model: model('wan2.7-t2v'), prompt: 'p', size: '1792x1024' }), BadRequestError);
  assert.equal(size.param, 'size');
  assert.match(size.message, /^400 size must be one of 1280x720, 720x1280, .*got "1792x1024"/);
  const twice = await postJson({ prompt: 'p', seconds: '4', duration: 4 });
  assert.equal(twice.body.error.message, 'seconds and duration set the same thing: send one of them');
  const wrongModel = await rejection(openai.videos.create({ model: 'sora-2', prompt: 'p' }), BadRequestError);
  assert.equal(wrongModel.param, 'model');
  // Form text that does not read as the field's type is refused like a JSON value of the wrong type.
  const form = await v1('/videos', { method: 'POST', body: formOf([['prompt', 'p'], ['seed', 'forty-two']]) });
  assert.equal(form.body.error.message, 'seed must be an integer, got "forty-two"');
});

test('multipart: lists of objects by bracketed names or as JSON text, and the limits of a form', async () => {
  const bracketed = await v1('/videos', {
    method: 'POST',
    body: formOf([
      ['model', 'wan2.7-r2v'],
      ['prompt', 'character1 and character2'],
      ['media[][type]', 'reference_image'],
      ['media[][url]', 'https://example.com/a.png'],
      ['media[][type]', 'reference_video'],
      ['media[][url]', 'https://example.com/b.mp4'],
      ['audio', 'false'],
    ]),
  });
  assert.equal(bracketed.status, 200, bracketed.text);
  assert.deepEqual((await storedRequest(bracketed.body.id)).media, [
    { type: 'reference_image', url: 'https://example.com/a.png' },
    { type: 'reference_video', url: 'https://example.com/b.mp4' },
  ]);
  assert.equal((await storedRequest(bracketed.body.id)).audio, false);
  const asJson = await v1('/videos', {
    method: 'POST',
    body: formOf([['model', 'wan2.7-r2v'], ['prompt', 'character1'], ['media', '[{"type":"reference_image","url":"https://example.com/a.png"}]']]),
  });
  assert.equal(asJson.status, 200, asJson.text);

  const before = storedUploads().length;
  const photoBlob = new Blob([await readFile(photo)], { type: 'image/png' });
  const otherFile = await v1('/videos', { method: 'POST', body: formOf([['prompt', 'p'], ['audio_url', photoBlob, 'a.png']]) });
  assert.deepEqual([otherFile.status, otherFile.body.error.param], [400, 'audio_url']);
  assert.match(otherFile.body.error.message, /only input_reference \(the first frame\) may be uploaded/);
  const twoFiles = await v1('/videos', { method: 'POST', body: formOf([['input_reference', photoBlob, 'a.png'], ['input_reference', photoBlob, 'b.png']]) });
  assert.equal(twoFiles.status, 400);
  assert.match(twoFiles.body.error.message, /more than one file/);
  const animated = await rejection(openai.videos.create({ prompt: 'p', input_reference: await toFile(await readFile(gif), 'a.gif') }), BadRequestError);
  assert.equal(animated.message, '400 input_reference: the upload is GIF; accepted: JPEG, PNG, BMP, WEBP images');
  const tooLarge = await rejection(openai.videos.create({ prompt: 'p', input_reference: await toFile(await readFile(oversized), 'big.png') }), BadRequestError);
  assert.equal(tooLarge.code, 'image_file_exceeds_max_size');
  assert.match(tooLarge.message, /input_reference: the upload is at least 20\.0 MB .*; the limit for an image is 20 MB/);
  const both = await v1('/videos', { method: 'POST', body: formOf([['input_reference', photoBlob, 'a.png'], ['input_reference[image_url]', 'https://example.com/a.png']]) });
  assert.match(both.body.error.message, /input_reference is sent both as a file and as a field/);
  assert.equal(storedUploads().length, before, 'a refused form left a file behind');

  const longText = await v1('/videos', { method: 'POST', body: formOf([['prompt', 'x'.repeat(1048577)]]) });
  assert.equal(longText.status, 400);
  assert.match(longText.body.error.message, /the text fields of the form exceed the limit of 1048576 bytes \(at prompt\)/);
  const plain = await v1('/videos', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'prompt=p' });
  assert.deepEqual([plain.status, plain.body.error.param], [400, 'Content-Type']);
  assert.match(plain.body.error.message, /multipart\/form-data or application\/json/);
});


test('each error class of the SDK, with the status it maps from', async () => {
  const { key, record } = await idle.newKey();
  const sdk = new OpenAI({ baseURL: `${idle.baseUrl}/v1`, apiKey: key, maxRetries: 0 });

  const bad = await rejection(sdk.videos.create({ model: model('wan2.7-t2v'), prompt: 'p', seconds: '20' as OpenAI.Videos.VideoSeconds }), BadRequestError);
  assert.deepEqual([bad.status, bad.type, bad.param, bad.code], [400, 'invalid_request_error', 'seconds', 'invalid_request_body']);

  const wrongKey = await rejection(new OpenAI({ baseURL: `${idle.baseUrl}/v1`, apiKey: 'wan_nope', maxRetries: 0 }).videos.list(), AuthenticationError);
  assert.deepEqual([wrongKey.status, wrongKey.code, wrongKey.type], [401, 'invalid_api_key', 'authentication_error']);
  const noKey = await fetch(`${idle.baseUrl}/v1/videos`);
  assert.equal(noKey.status, 401);
  assert.equal((await noKey.json()).error.code, 'missing_api_key');

  const missing = await rejection(sdk.videos.retrieve('01900000-0000-7000-8000-000000000000'), NotFoundError);
  assert.deepEqual([missing.status, missing.code], [404, 'task_not_found']);

  const queued = await sdk.videos.create({ model: model('wan2.7-t2v'), prompt: 'never runs', seconds: '4' });
  assert.equal(queued.status, 'queued');
  const other = new OpenAI({ baseURL: `${idle.baseUrl}/v1`, apiKey: (await idle.newKey()).key, maxRetries: 0 });
  await rejection(other.videos.retrieve(queued.id), NotFoundError);

  // A conflict is final (x-should-retry: false): even with retries on, the SDK asks only once.
  let requests = 0;
  const counting: typeof fetch = (input, init) => {
    requests++;
    return fetch(input, init);
  };
  const retrying = new OpenAI({ baseURL: `${idle.baseUrl}/v1`, apiKey: key, maxRetries: 2, fetch: counting });
  const inFlight = await rejection(retrying.videos.delete(queued.id), ConflictError);
  assert.deepEqual([inFlight.status, inFlight.code, inFlight.headers.get('x-should-retry'), requests], [409, 'task_not_finished', 'false', 1]);
  assert.equal((await sdk.videos.retrieve(queued.id)).status, 'queued');
  const notReady = await rejection(sdk.videos.downloadContent(queued.id), ConflictError);
  assert.match(notReady.message, /has not completed yet/);

  const first = await sdk.videos.create({ model: model('wan2.7-t2v'), prompt: 'once', seconds: '4' }, { headers: { 'Idempotency-Key': 'k-1' } });
  const again = await sdk.videos.create({ model: model('wan2.7-t2v'), prompt: 'once', seconds: '4' }, { headers: { 'Idempotency-Key': 'k-1' } });
  assert.equal(again.id, first.id);
  const reused = await rejection(
    sdk.videos.create({ model: model('wan2.7-t2v'), prompt: 'another', seconds: '4' }, { headers: { 'Idempotency-Key': 'k-1' } }),
    UnprocessableEntityError,
  );
  assert.deepEqual([reused.status, reused.code, reused.param], [422, 'idempotency_key_reused', 'Idempotency-Key']);

  idle.state.limited.add(record.id);
  const limited = await rejection(sdk.videos.create({ model: model('wan2.7-t2v'), prompt: 'p' }), RateLimitError);
  assert.deepEqual([limited.status, limited.code, limited.type, limited.headers.get('retry-after'), limited.headers.get('x-should-retry')], [
    429,
    'rate_limit_exceeded',
    'rate_limit_error',
    '5',
    'true',
  ]);
  idle.state.limited.delete(record.id);

  idle.state.diskProblem = 'the disk is full';
  const full = await rejection(sdk.videos.create({ model: model('wan2.7-t2v'), prompt: 'p' }), InternalServerError);
  assert.deepEqual([full.status, full.code, full.type], [503, 'storage_full', 'server_error']);
  assert.match(full.message, /the disk is full/);
  idle.state.diskProblem = undefined;
});

test('a file sent twice with one Idempotency-Key is the same request, though it is stored anew each time', async () => {
  const { key } = await idle.newKey();
  const sdk = new OpenAI({ baseURL: `${idle.baseUrl}/v1`, apiKey: key, maxRetries: 0 });
  const create = async (bytes: Buffer) =>
    sdk.videos.create({ prompt: 'p', input_reference: await toFile(bytes, 'f.png') }, { headers: { 'Idempotency-Key': 'frame-1' } });
  const first = await create(await readFile(photo));
  assert.equal((await create(await readFile(photo))).id, first.id);
  await rejection(create(Buffer.concat([await readFile(photo), Buffer.from('another file')])), UnprocessableEntityError);
});

test('content: the video with byte ranges; a cancelled video has none, and spritesheets are not offered', async () => {
  const created = await openai.videos.create({ model: model('wan2.7-t2v'), prompt: 'range', seconds: '4' });
  await untilEnded(openai, created.id);
  const whole = await (await openai.videos.downloadContent(created.id)).text();
  assert.match(whole, new RegExp(`^video of ${created.id}`));
  const part = await v1(`/videos/${created.id}/content`, { headers: { range: 'bytes=2-5' } });
  assert.deepEqual([part.status, part.headers.get('content-range'), part.text], [206, `bytes 2-5/${whole.length}`, whole.slice(2, 6)]);
  assert.equal(part.headers.get('content-type'), 'video/mp4');
  const beyond = await v1(`/videos/${created.id}/content`, { headers: { range: `bytes=${whole.length + 10}-` } });
  assert.deepEqual([beyond.status, beyond.headers.get('content-range')], [416, `bytes */${whole.length}`]);

  const sprites = await rejection(openai.videos.downloadContent(created.id, { variant: 'spritesheet' }), BadRequestError);
  assert.equal(sprites.param, 'variant');
  assert.match(sprites.message, /variant "spritesheet" is not offered by this server/);
  const unknown = await v1(`/videos/${created.id}/content?variant=poster`);
  assert.match(unknown.body.error.message, /^variant must be one of video, thumbnail, spritesheet, got "poster"/);

  const { key, record } = await idle.newKey();
  const sdk = new OpenAI({ baseURL: `${idle.baseUrl}/v1`, apiKey: key, maxRetries: 0 });
  const doomed = await sdk.videos.create({ model: model('wan2.7-t2v'), prompt: 'cancelled', seconds: '4' });
  const error = { code: 500, reason: 'TASK_CANCELLED', message: 'the task was cancelled by its client', metadata: {} };
  assert.ok((await idle.store.tasks.cancel(doomed.id, record.id, error, Date.now()))?.cancelled);
  const failed = await sdk.videos.retrieve(doomed.id);
  assert.deepEqual([failed.status, failed.error, failed.expires_at], ['failed', { code: 'task_cancelled', message: 'the task was cancelled by its client' }, null]);
  assert.match((await rejection(sdk.videos.downloadContent(doomed.id), NotFoundError)).message, /failed and has no content: the task was cancelled/);
  assert.deepEqual(await sdk.videos.delete(doomed.id), { id: doomed.id, object: 'video.deleted', deleted: true });
});

test("list: a key's videos from both APIs, a page at a time in either order", async () => {
  const other = await newClient();
  const sdk = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: other.apiKey, maxRetries: 0 });
  const ids = [
    (await sdk.videos.create({ model: model('wan2.7-t2v'), prompt: 'one' })).id,
    (await other.submit('wan2.7-t2v', { prompt: 'two' })).body.task_id,
    (await sdk.videos.create({ model: model('wan2.7-t2v'), prompt: 'three' })).id,
  ];
  const newest = await sdk.videos.list({ limit: 2 });
  assert.deepEqual(newest.data.map((video) => video.id), [ids[2], ids[1]]);
  assert.equal(newest.has_more, true);
  const rest = await sdk.videos.list({ limit: 2, after: newest.data[1].id });
  assert.deepEqual([rest.data.map((video) => video.id), rest.has_more], [[ids[0]], false]);
  const all: string[] = [];
  for await (const video of sdk.videos.list({ limit: 1, order: 'asc' })) all.push(video.id);
  assert.deepEqual(all, ids);
  const raw = await v1('/videos?limit=2&order=asc', {}, other.apiKey);
  assert.deepEqual(Object.keys(raw.body), ['object', 'data', 'first_id', 'last_id', 'has_more']);
  assert.deepEqual([raw.body.object, raw.body.first_id, raw.body.last_id], ['list', ids[0], ids[1]]);

  const empty = await v1('/videos', {}, (await newClient()).apiKey);
  assert.deepEqual(empty.body, { object: 'list', data: [], first_id: null, last_id: null, has_more: false });
  const badLimit = await v1('/videos?limit=0');
  assert.deepEqual([badLimit.status, badLimit.body.error.param, badLimit.body.error.message], [400, 'limit', 'limit must be an integer between 1 and 100, got 0']);
  assert.equal((await v1('/videos?order=sideways')).body.error.param, 'order');
});

test('delete removes the task and its files: gone from both APIs', async () => {
  const created = await openai.videos.create({ model: model('wan2.7-t2v'), prompt: 'short-lived' });
  await untilEnded(openai, created.id);
  const resultDir = path.join(dataDir, 'blobs', 'videos', created.id);
  assert.ok(existsSync(resultDir));
  // A thumbnail kept beside the video goes with it (made for real in the end-to-end test).
  const thumbnail = path.join(dataDir, 'blobs', resultThumbnailKey(created.id));
  await writeFile(thumbnail, await readFile(photo));
  assert.deepEqual(await openai.videos.delete(created.id), { id: created.id, object: 'video.deleted', deleted: true });
  assert.equal(existsSync(thumbnail), false);
  assert.equal(existsSync(resultDir), false);
  await rejection(openai.videos.retrieve(created.id), NotFoundError);
  await rejection(openai.videos.delete(created.id), NotFoundError);
  assert.equal((await client.result(created.id)).status, 404);
});

test("errors under /v1/ have OpenAI's body, including unknown paths and malformed JSON; the native API keeps its own", async () => {
  const unknown = await v1('/chat/completions', { method: 'POST' });
  assert.deepEqual(unknown.body, {
    error: { message: 'no API at POST /v1/chat/completions', type: 'invalid_request_error', param: null, code: 'api_not_found' },
  });
  assert.equal(unknown.headers.get('x-should-retry'), 'false');
  const malformed = await v1('/videos', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt": ' });
  assert.deepEqual([malformed.status, malformed.body.error.param, malformed.body.error.code], [400, 'body', 'invalid_request_body']);
  const notAnObject = await postJson(['prompt']);
  assert.equal(notAnObject.body.error.message, 'the request body must be a JSON object, got ["prompt"]');
  const noBoundary = await v1('/videos', { method: 'POST', headers: { 'content-type': 'multipart/form-data' }, body: 'prompt=p' });
  assert.deepEqual([noBoundary.status, noBoundary.body.error.param], [400, 'body']);
  assert.match(noBoundary.body.error.message, /^the multipart body cannot be read: /);
  const cutShort = await v1('/videos', {
    method: 'POST',
    headers: { 'content-type': 'multipart/form-data; boundary=x' },
    body: '--x\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nhalf a',
  });
  assert.deepEqual([cutShort.status, cutShort.body.error.param], [400, 'body']);
  const native = await fetch(`${server.url}/v3/async/task-result?task_id=x`);
  assert.deepEqual(Object.keys(await native.json()).sort(), ['code', 'message', 'metadata', 'reason']);
  assert.equal(native.status, 400);
});

test('every /v1 route is in the OpenAPI document, and every documented /v1 path is served', async () => {
  const documented = Object.entries(buildOpenApiDocument().paths)
    .filter(([route]) => route.startsWith('/v1/'))
    .flatMap(([route, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${route}`));
  const served = servedRoutes(server.http.printRoutes({ commonPrefix: false }))
    .filter(({ path }) => path.startsWith('/v1/'))
    .flatMap(({ path, methods }) => methods.filter((method) => method !== 'HEAD').map((method) => `${method} ${path.replace(/:(\w+)/g, '{$1}')}`));
  assert.deepEqual([...served].sort(), [...documented].sort());
  assert.equal(documented.length, 5);
});

/** Every route of Fastify's route tree (`printRoutes`): each line's segment joined to its parents'. */
function servedRoutes(tree: string): { path: string; methods: string[] }[] {
  const parents: string[] = [];
  return tree.split('\n').flatMap((line) => {
    const match = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([^)]+)\))?$/.exec(line);
    if (!match) return [];
    const depth = match[1].length / 4;
    parents.length = depth;
    parents.push(match[2]);
    return match[3] ? [{ path: parents.join('').replace(/^\/\/?/, '/'), methods: match[3].split(', ') }] : [];
  });
}
