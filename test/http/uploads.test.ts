import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { megabyte } from '../../src/models/media-limits.js';
import { uploadResultSchema } from '../../src/models/task-result-schema.js';
import { FakeEngine } from '../support/fake-engine.js';
import { startInProcessServer } from '../support/in-process-server.js';
import { makeImage, padToSize, testToolchain } from '../support/media-fixtures.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * `POST /v3/uploads` on a whole server with the default address policy, which refuses loopback:
 * a task that uses an upload can only succeed if the server reads its own upload from the store.
 */
const toolchain = await testToolchain();
const fixtures = tempDir('wan-uploads-');
const photo = await makeImage(toolchain, path.join(fixtures, 'photo.png'), { width: 480, height: 320 });
const gif = await makeImage(toolchain, path.join(fixtures, 'anim.gif'), { width: 300, height: 300, colour: 'teal' });
const oversized = await padToSize(await makeImage(toolchain, path.join(fixtures, 'big.png'), { width: 320, height: 320 }), 20 * megabyte + 1);
const { server, client, dataDir } = await startInProcessServer([new FakeEngine({ renderMs: 20 })]);
const uploadsDir = path.join(dataDir, 'blobs', 'uploads');

async function upload(body: BodyInit, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}/v3/uploads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${client.apiKey}`, 'content-type': 'application/octet-stream', ...headers },
    body,
    ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit);
  return { status: response.status, body: await response.json() };
}

const storedUploads = () => (existsSync(uploadsDir) ? readdirSync(uploadsDir, { recursive: true }).filter((entry) => String(entry).includes('.')) : []);

test('an upload answers a signed URL of this server that serves the same bytes, under a safe name with the true extension', async () => {
  const bytes = await readFile(photo);
  const { status, body } = await upload(bytes, { 'x-file-name': encodeURIComponent('my holiday photo.jpg') });
  assert.equal(status, 200, JSON.stringify(body));
  assert.deepEqual(Object.keys(body).sort(), ['content_type', 'size_bytes', 'url', 'url_ttl_seconds']);
  const documented = new Ajv({ strict: true }).compile(uploadResultSchema);
  assert.ok(documented(body), `the answer is the documented UploadResult: ${JSON.stringify(documented.errors)}`);
  assert.equal(body.content_type, 'image/png');
  assert.equal(body.size_bytes, bytes.length);
  assert.equal(body.url_ttl_seconds, 86400);
  assert.match(body.url, new RegExp(`^${server.url}/v3/files/uploads/[0-9a-f-]{36}/my-holiday-photo\\.png\\?expires=\\d+&signature=`));
  const served = await fetch(body.url);
  assert.equal(served.headers.get('content-type'), 'image/png');
  assert.deepEqual(Buffer.from(await served.arrayBuffer()), bytes);
});

test('a task may use the uploaded URL: the server reads it from its store, not over the (refused) loopback', async () => {
  const { body: uploaded } = await upload(await readFile(photo));
  const submitted = await client.submit('wan2.7-i2v', { prompt: 'waves', image_url: uploaded.url });
  const result = await client.waitForEnd(submitted.body.task_id, 30_000);
  assert.equal(result.task.status, 'TASK_STATUS_SUCCEED', result.task.reason);

  // The same URL with its signature altered is not recognised as an upload: it goes to the
  // network, where the default policy refuses loopback.
  const forged = uploaded.url.replace(/signature=[^&]+/, 'signature=forged');
  const refused = await client.waitForEnd((await client.submit('wan2.7-i2v', { prompt: 'waves', image_url: forged })).body.task_id, 30_000);
  assert.equal(refused.task.status, 'TASK_STATUS_FAILED');
  assert.match(refused.task.reason, /^image_url: .*loopback/);
  assert.equal(refused.extra.error.reason, 'MEDIA_URL_NOT_ALLOWED');
});

test('a file that is not a supported image, video or audio is refused by its bytes, and nothing is stored', async () => {
  const before = storedUploads().length;
  const { status, body } = await upload(await readFile(gif), { 'content-type': 'image/png', 'x-file-name': 'not-really.png' });
  assert.equal(status, 400);
  assert.equal(body.reason, 'INVALID_REQUEST_BODY');
  assert.match(body.message, /^body: the upload is GIF; accepted: JPEG, PNG, BMP, WEBP images, MP4, MOV videos, WAV, MP3, FLAC audio$/);
  assert.equal((await upload('')).body.message, 'body: the upload is empty: send the file as the request body');
  assert.equal(storedUploads().length, before);
});

test('an image over 20 MB is IMAGE_FILE_EXCEEDS_MAX_SIZE, by its Content-Length or while streaming, and nothing is stored', async () => {
  const before = storedUploads().length;
  const bytes = await readFile(oversized);
  const declared = await upload(bytes);
  assert.equal(declared.status, 400);
  assert.equal(declared.body.reason, 'IMAGE_FILE_EXCEEDS_MAX_SIZE');
  assert.equal(declared.body.metadata.limit, 20 * megabyte);

  // No Content-Length: the cap is counted as the chunks arrive.
  const chunked = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let offset = 0; offset < bytes.length; offset += megabyte) controller.enqueue(bytes.subarray(offset, offset + megabyte));
      controller.close();
    },
  });
  const streamed = await upload(chunked);
  assert.equal(streamed.status, 400);
  assert.equal(streamed.body.reason, 'IMAGE_FILE_EXCEEDS_MAX_SIZE');
  assert.match(streamed.body.message, /the limit for an image is 20 MB/);
  assert.equal(storedUploads().length, before);
  assert.deepEqual(readdirSync(uploadsDir, { recursive: true }).filter((entry) => String(entry).includes('partial')), []);
});

test('uploads need a valid API key', async () => {
  const anonymous = await fetch(`${server.url}/v3/uploads`, { method: 'POST', body: await readFile(photo) });
  assert.equal(anonymous.status, 400);
  assert.equal((await anonymous.json()).reason, 'MISSING_API_KEY');
  const wrong = await fetch(`${server.url}/v3/uploads`, { method: 'POST', headers: { authorization: 'Bearer wan_nope' }, body: await readFile(photo) });
  assert.equal(wrong.status, 403);
  assert.equal((await wrong.json()).reason, 'INVALID_API_KEY');
});
