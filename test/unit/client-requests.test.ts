import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { WanApiError, WanClient } from '../../src/client/index.js';
import { NodeWanClient } from '../../src/client/node.js';
import { startStubServer, taskResult } from '../support/stub-api-server.js';
import { tempDir } from '../support/temp-dir.js';

/** The client against a scripted server: what it sends, how it reads errors, waits, uploads and downloads. */
const stub = await startStubServer();
const client = new NodeWanClient({ baseUrl: stub.url, apiKey: 'secret-key', retry: { initialDelayMs: 10, maxDelayMs: 20 } });
const dir = tempDir();

test('a submit sends the body as JSON with Authorization: Bearer, under any base path', async () => {
  const prefixed = new WanClient({ baseUrl: `${stub.url}/provider/`, apiKey: 'secret-key' });
  stub.script('POST /provider/v3/async/wan2.7-r2v', { json: { task_id: 'r1' } });
  const request = { prompt: 'character1 waves', media: [{ type: 'reference_image' as const, url: 'https://x/a.png' }] };
  assert.equal(await prefixed.submit('wan2.7-r2v', request), 'r1');
  const [sent] = stub.requestsTo('POST /provider/v3/async/wan2.7-r2v');
  assert.equal(sent.headers.authorization, 'Bearer secret-key');
  assert.equal(sent.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(sent.body.toString()), request);
});

test('an error answer becomes a WanApiError with the body’s code, reason, message and metadata', async () => {
  stub.script('POST /v3/async/wan2.7-t2v', {
    status: 400,
    json: { code: 400, reason: 'INVALID_REQUEST_BODY', message: 'duration must be an integer between 2 and 15, got 20', metadata: { field: 'duration', value: 20 } },
  });
  const error = await client.submit('wan2.7-t2v', { prompt: 'x', duration: 20 }).catch((thrown: unknown) => thrown);
  assert.ok(error instanceof WanApiError);
  assert.deepEqual(
    { kind: error.kind, status: error.status, code: error.code, reason: error.reason, message: error.message, metadata: error.metadata },
    { kind: 'http', status: 400, code: 400, reason: 'INVALID_REQUEST_BODY', message: 'duration must be an integer between 2 and 15, got 20', metadata: { field: 'duration', value: 20 } },
  );
  assert.deepEqual(error.toJSON(), { code: 400, reason: 'INVALID_REQUEST_BODY', message: error.message, metadata: error.metadata });
});

test('an error answer that is not the API’s body (a proxy’s HTML page) still gives status and text', async () => {
  stub.script('GET /v3/async/task-result', { status: 403, headers: { 'content-type': 'text/html' }, body: '<h1>Forbidden by proxy</h1>' });
  const error = await client.getResult('t').catch((thrown: unknown) => thrown);
  assert.ok(error instanceof WanApiError);
  assert.equal(error.status, 403);
  assert.equal(error.reason, 'HTTP_403');
  assert.match(error.message, /Forbidden by proxy/);
});

test('a request without an answer in requestTimeoutMs is a timeout error', async () => {
  stub.script('GET /v3/async/task-result', { action: 'hang' });
  const impatient = new WanClient({ baseUrl: stub.url, apiKey: 'k', requestTimeoutMs: 150, retry: { maxRetries: 1, initialDelayMs: 10 } });
  const started = Date.now();
  const error = await impatient.getResult('slow').catch((thrown: unknown) => thrown);
  assert.ok(error instanceof WanApiError);
  assert.equal(error.kind, 'timeout');
  assert.equal(error.status, 0);
  assert.ok(Date.now() - started < 2000);
  assert.equal(stub.requestsTo('GET /v3/async/task-result').filter((request) => request.url.includes('slow')).length, 2, 'retried once');
});

test('waitFor reports each poll to onProgress, backs off, honours Retry-After, and answers the result', async () => {
  stub.script(
    'GET /v3/async/task-result',
    { json: taskResult('w1', 'TASK_STATUS_QUEUED', { eta: 3 }) },
    { json: taskResult('w1', 'TASK_STATUS_PROCESSING', { progress: 30, eta: 2 }) },
    { json: taskResult('w1', 'TASK_STATUS_PROCESSING', { progress: 60, eta: 1 }), headers: { 'retry-after': '0.3' } },
    { json: taskResult('w1', 'TASK_STATUS_SUCCEED', { progress: 100, videoUrl: 'http://v/1.mp4' }) },
  );
  const before = stub.requestsTo('GET /v3/async/task-result').length;
  const seen: [string, number][] = [];
  const result = await client.waitFor('w1', { pollIntervalMs: 40, onProgress: (task) => seen.push([task.status, task.progress_percent]) });
  assert.equal(result.videos[0].video_url, 'http://v/1.mp4');
  assert.deepEqual(seen, [
    ['TASK_STATUS_QUEUED', 0],
    ['TASK_STATUS_PROCESSING', 30],
    ['TASK_STATUS_PROCESSING', 60],
    ['TASK_STATUS_SUCCEED', 100],
  ]);
  const at = stub.requestsTo('GET /v3/async/task-result').slice(before).map((request) => request.at);
  assert.ok(at[2] - at[1] >= at[1] - at[0] - 5, 'the interval does not shrink');
  assert.ok(at[3] - at[2] >= 290, `Retry-After 0.3 s was honoured (${at[3] - at[2]} ms)`);
});

test('waitFor throws a task_failed error carrying the reason and the result', async () => {
  const body = { code: 400, reason: 'MEDIA_DOWNLOAD_FAILED', message: 'image_url: cannot download', metadata: { field: 'image_url' } };
  stub.script('GET /v3/async/task-result', { json: taskResult('f1', 'TASK_STATUS_FAILED', { reason: 'image_url: cannot download', error: body }) });
  const error = await client.waitFor('f1', { pollIntervalMs: 10 }).catch((thrown: unknown) => thrown);
  assert.ok(error instanceof WanApiError);
  assert.equal(error.kind, 'task_failed');
  assert.equal(error.taskId, 'f1');
  assert.equal(error.reason, 'MEDIA_DOWNLOAD_FAILED');
  assert.equal(error.code, 400);
  assert.equal(error.message, 'image_url: cannot download');
  assert.deepEqual(error.metadata, { field: 'image_url' });
  assert.equal((error.result as { task: { status: string } }).task.status, 'TASK_STATUS_FAILED');
});

test('waitFor stops at once on abort, and with a timeout error after `timeout`', async () => {
  stub.script('GET /v3/async/task-result', { json: taskResult('a1', 'TASK_STATUS_PROCESSING', { progress: 10 }) });
  const controller = new AbortController();
  const started = Date.now();
  const waiting = client.waitFor('a1', { signal: controller.signal, pollIntervalMs: 10_000 });
  setTimeout(() => controller.abort(), 100);
  await assert.rejects(waiting, (error: WanApiError) => error.kind === 'aborted' && error.reason === 'ABORTED');
  assert.ok(Date.now() - started < 1000, 'no wait for the next poll');

  const timing = Date.now();
  await assert.rejects(
    client.waitFor('a1', { timeout: 250, pollIntervalMs: 50 }),
    (error: WanApiError) => error.kind === 'timeout' && error.taskId === 'a1',
  );
  const elapsed = Date.now() - timing;
  assert.ok(elapsed >= 240 && elapsed < 1500, `gave up after ${elapsed} ms`);
});

test('upload posts the raw file with its Content-Type and x-file-name, and answers the url', async () => {
  const uploads = stub.enableUploads();
  const file = path.join(dir, 'first frame.png');
  await writeFile(file, Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
  const url = await client.uploadFile(file);
  const [stored] = [...uploads.values()];
  assert.equal(stored.name, 'first frame.png');
  assert.equal(stored.contentType, 'image/png');
  assert.deepEqual(stored.body, await readFile(file));
  assert.equal(stub.requestsTo('POST /v3/uploads').at(-1)!.headers.authorization, 'Bearer secret-key');
  const fetched = await fetch(url);
  assert.deepEqual(Buffer.from(await fetched.arrayBuffer()), await readFile(file), 'the url serves the file');

  const blobUrl = await client.upload(new Blob(['abc'], { type: 'audio/wav' }), { name: 'v.wav' });
  assert.match(blobUrl, /\/v\.wav$/);
  assert.equal([...uploads.values()].at(-1)!.contentType, 'audio/wav');
});

test('download streams the video to the file, without the API key', async () => {
  const video = Buffer.alloc(300_000, 7);
  stub.script('GET /files/out.mp4', { headers: { 'content-type': 'video/mp4', 'content-length': String(video.length) }, body: video });
  const result = taskResult('d1', 'TASK_STATUS_SUCCEED', { progress: 100, videoUrl: `${stub.url}/files/out.mp4?signature=abc` });
  const file = path.join(dir, 'out.mp4');
  let lastReported = 0;
  const bytes = await client.download(result as never, file, { onBytes: (received) => (lastReported = received) });
  assert.equal(bytes, video.length);
  assert.equal(lastReported, video.length);
  assert.deepEqual(await readFile(file), video);
  assert.equal(stub.requestsTo('GET /files/out.mp4')[0].headers.authorization, undefined, 'no key sent to the result URL');
  await assert.rejects(stat(`${file}.partial`), 'no partial file left');

  const notYet = taskResult('d2', 'TASK_STATUS_PROCESSING');
  await assert.rejects(client.download(notYet as never, path.join(dir, 'none.mp4')), (error: WanApiError) => error.reason === 'NO_VIDEO');
});
