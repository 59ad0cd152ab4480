import assert from 'node:assert/strict';
import { test } from 'node:test';
import { corsAllowedHeaders } from '../../src/http/cors.js';
import { FakeEngine } from '../support/fake-engine.js';
import { startInProcessServer } from '../support/in-process-server.js';

/** Browsers may call the API and fetch the signed file URLs, from the origins the server allows. */
const anyOrigin = await startInProcessServer([new FakeEngine({ renderMs: 20 })]);
const someOrigins = await startInProcessServer([new FakeEngine({ renderMs: 20 })], { cors_origins: 'https://app.example, https://admin.example' });

function preflight(baseUrl: string, path: string, origin: string, method = 'POST') {
  return fetch(`${baseUrl}${path}`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': 'authorization,content-type,idempotency-key,last-event-id,x-file-name',
    },
  });
}

test('a preflight is answered 204 for every endpoint, allowing the headers the SDK sends', async () => {
  for (const path of ['/v3/async/wan2.7-t2v', '/v3/async/task-result', '/v3/uploads', '/v3/files/videos/x/0.mp4']) {
    const response = await preflight(anyOrigin.server.url, path, 'https://somewhere.example');
    assert.equal(response.status, 204, path);
    assert.equal(response.headers.get('access-control-allow-origin'), '*');
    assert.match(response.headers.get('access-control-allow-methods') ?? '', /POST/);
    const allowed = (response.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/,\s*/);
    for (const header of ['authorization', 'content-type', 'idempotency-key', 'last-event-id', 'x-file-name']) {
      assert.ok(allowed.includes(header), `${path}: ${header} allowed (${allowed})`);
    }
    assert.ok(Number(response.headers.get('access-control-max-age')) > 0, 'browsers may cache the preflight');
  }
  assert.ok(corsAllowedHeaders.includes('Authorization'));
});

test('simple requests, answers and errors alike, name the origin and expose the headers clients read', async () => {
  const { client, server } = anyOrigin;
  const submitted = await fetch(`${server.url}/v3/async/wan2.7-t2v`, {
    method: 'POST',
    headers: { origin: 'https://somewhere.example', authorization: `Bearer ${client.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'cors', size: '1280*720', duration: 2 }),
  });
  assert.equal(submitted.status, 200);
  assert.equal(submitted.headers.get('access-control-allow-origin'), '*');
  const exposed = (submitted.headers.get('access-control-expose-headers') ?? '').toLowerCase();
  for (const header of ['retry-after', 'content-range']) assert.match(exposed, new RegExp(header));

  const refused = await fetch(`${server.url}/v3/async/task-result?task_id=x`, { headers: { origin: 'https://somewhere.example' } });
  assert.equal(refused.status, 400);
  assert.equal(refused.headers.get('access-control-allow-origin'), '*', 'a page can read why it was refused');

  const result = await client.waitForEnd((await submitted.json()).task_id);
  const video = await fetch(result.videos[0].video_url, { headers: { origin: 'https://somewhere.example', range: 'bytes=0-3' } });
  assert.equal(video.status, 206);
  assert.equal(video.headers.get('access-control-allow-origin'), '*', 'a signed file URL can be played from a page');
});

test('with cors_origins set, only those origins are allowed', async () => {
  const { server } = someOrigins;
  const allowed = await preflight(server.url, '/v3/async/wan2.7-t2v', 'https://admin.example');
  assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://admin.example');
  assert.match(allowed.headers.get('vary') ?? '', /Origin/i);
  const other = await preflight(server.url, '/v3/async/wan2.7-t2v', 'https://evil.example');
  assert.equal(other.headers.get('access-control-allow-origin'), null);
  const simple = await fetch(`${server.url}/healthz`, { headers: { origin: 'https://evil.example' } });
  assert.equal(simple.status, 200, 'the server answers; the browser withholds the answer from the page');
  assert.equal(simple.headers.get('access-control-allow-origin'), null);
});
