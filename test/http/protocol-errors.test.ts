import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createServer, httpSettingsOf } from '../../src/http/create-server.js';
import { maxNestingDepth } from '../../src/models/validate-request.js';
import { FakeEngine } from '../support/fake-engine.js';
import { serveDirectory } from '../support/file-server.js';
import { startInProcessServer } from '../support/in-process-server.js';
import { makeImage, testToolchain } from '../support/media-fixtures.js';
import { contractViolation, errorBodyViolation, rawExchange, type RawResponse } from '../support/raw-http.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * Whatever fails, and at whichever layer (Node's HTTP parser, Fastify's router, a body parser,
 * a route), the answer is the documented error body; and slow clients are cut off in time.
 */
const headerTimeoutSeconds = 2;
const bodyTimeoutSeconds = 2;
const minBytesPerSecond = 1024;
const { server, client, dataDir } = await startInProcessServer([new FakeEngine({ renderMs: 20 })], {
  request_header_timeout_seconds: String(headerTimeoutSeconds),
  request_body_timeout_seconds: String(bodyTimeoutSeconds),
  request_body_min_bytes_per_second: String(minBytesPerSecond),
  media_allow_ranges: '127.0.0.1/32',
});
const auth = `Authorization: Bearer ${client.apiKey}\r\n`;

function assertDocumented(response: RawResponse | undefined, status: number, reason: string): Record<string, any> {
  assert.ok(response, 'an answer');
  assert.equal(response.status, status, response.body);
  assert.equal(errorBodyViolation(response.status, response.headers['content-type'], response.body), undefined);
  const body = JSON.parse(response.body);
  assert.equal(body.reason, reason, body.message);
  return body;
}

/** A create-task request with the body exactly as given. */
async function submitRaw(model: string, body: string, contentType = 'application/json') {
  const response = await fetch(`${server.url}/v3/async/${model}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${client.apiKey}`, 'content-type': contentType },
    body,
  });
  return { status: response.status, body: await response.json() };
}

async function send(text: string | Buffer, options: Parameters<typeof rawExchange>[2] = {}) {
  return rawExchange(server.url, [Buffer.isBuffer(text) ? text : Buffer.from(text, 'latin1')], { timeoutMs: 3000, ...options });
}

test('bytes that are not HTTP are answered 400 MALFORMED_REQUEST, naming the fault, and the connection is closed', async () => {
  const cases: [string, string, RegExp][] = [
    ['bad method', 'G\u0001T /healthz HTTP/1.1\r\nHost: x\r\n\r\n', /method/i],
    ['bad version', 'GET /healthz HTTP/7.3\r\nHost: x\r\n\r\n', /version/i],
    ['bad header', 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n', /header/i],
    ['bad chunk', 'POST /v3/async/wan2.7-t2v HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n', /chunk/i],
    ['both lengths', 'POST /v3/async/wan2.7-t2v HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', /Content-Length/i],
    ['two lengths', 'POST /v3/async/wan2.7-t2v HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}', /Content-Length/i],
    ['negative length', 'POST /v3/async/wan2.7-t2v HTTP/1.1\r\nHost: x\r\nContent-Length: -2\r\n\r\n{}', /Content-Length/i],
    ['a TLS handshake', '\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003', /method/i],
  ];
  for (const [name, bytes, fault] of cases) {
    const exchange = await send(bytes);
    const body = assertDocumented(exchange.responses[0], 400, 'MALFORMED_REQUEST');
    assert.match(body.message, fault, name);
    assert.match(body.metadata.parser_error, /^HPE_/, name);
    assert.equal(exchange.closed, true, `${name}: the connection is closed`);
  }
});

test('bad bytes after a pipelined request: the request keeps its answer, the 400 follows it, then the connection closes', async () => {
  const taskResult = `GET /v3/async/task-result?task_id=missing HTTP/1.1\r\nHost: x\r\n${auth}\r\n`;
  const exchange = await send(`GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n${taskResult}G\u0001T / HTTP/1.1\r\n\r\n`);
  assert.deepEqual(exchange.responses.map((response) => response.status), [200, 404, 400], 'each request answered in order, then the bad bytes');
  assertDocumented(exchange.responses[2], 400, 'MALFORMED_REQUEST');
  assert.equal(exchange.closed, true);
  // A request that asked to close the connection (here HTTP/2.0 read as HTTP/1): its answer, and nothing after it.
  const closing = await send('GET /openapi.json HTTP/2.0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.deepEqual(closing.responses.map((response) => response.status), [200]);
  assert.equal(closing.closed, true);
});

test('a client that half-closes after its requests still gets every answer, in order, then the close', async () => {
  // Submitting waits for the store's commit: the half-close arrives before that answer is made.
  const body = JSON.stringify({ prompt: 'a lantern at dusk', size: '1280*720', duration: 2 });
  const submit = `POST /v3/async/wan2.7-t2v HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  const exchange = await send(`${submit}GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`, { endAfterSending: true });
  assert.deepEqual(exchange.responses.map((response) => response.status), [200, 200]);
  assert.match(JSON.parse(exchange.responses[0].body).task_id, /^[0-9a-f-]{36}$/);
  assert.equal(exchange.closed, true);
  // A request line with no version is HTTP/0.9 to Node's parser, the rest of the bytes a second,
  // bad request: the first keeps its answer after the half-close, and the connection closes.
  const old = await send('GET /healthz\r\nX: 1\r\n\r\n', { endAfterSending: true });
  assert.deepEqual(old.responses.map((response) => response.status), [200]);
  assert.equal(old.closed, true);
});

test('a URL that does not decode, a missing Host and a CONNECT get the documented body too', async () => {
  const badEscape = await send('GET /v3/files/%E0%A4%A HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match(assertDocumented(badEscape.responses[0], 400, 'MALFORMED_REQUEST').message, /%E0%A4%A/);
  const noHost = await send('GET /healthz HTTP/1.1\r\n\r\n');
  assert.match(assertDocumented(noHost.responses[0], 400, 'MALFORMED_REQUEST').message, /Host/);
  const http10 = await send('GET /healthz HTTP/1.0\r\n\r\n');
  assert.equal(http10.responses[0]?.status, 200, 'HTTP/1.0 needs no Host');
  const proxy = await send('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
  assertDocumented(proxy.responses[0], 404, 'API_NOT_FOUND');
});

test('headers over 16 KB are answered 431 REQUEST_HEADERS_TOO_LARGE with the limit', async () => {
  const exchange = await send(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
  const body = assertDocumented(exchange.responses[0], 431, 'REQUEST_HEADERS_TOO_LARGE');
  assert.equal(body.metadata.limit_bytes, 16384);
});

test('headers that do not arrive in time are answered 408 within the limit', async () => {
  const slow = await send('GET /healthz HTTP/1.1\r\nHost: x\r\n', { timeoutMs: 10_000 });
  const body = assertDocumented(slow.responses[0], 408, 'REQUEST_TIMEOUT');
  assert.match(body.message, /request_header_timeout_seconds/);
  assert.equal(slow.closed, true);
  // Node looks for late connections once a second.
  assert.ok(slow.elapsedMs < (headerTimeoutSeconds + 1.5) * 1000, `cut after ${slow.elapsedMs} ms`);
  const silent = await rawExchange(server.url, [], { timeoutMs: 10_000 });
  assert.equal(silent.closed, true, 'a connection that sends nothing is closed too');
  assert.ok(silent.elapsedMs < (headerTimeoutSeconds + 1.5) * 1000);
});

/** A request whose body comes one byte every `pauseMs`, for as long as the server listens. */
function trickle(head: string, bytes: number, pauseMs: number) {
  return rawExchange(server.url, [Buffer.from(head, 'latin1'), ...Array.from({ length: bytes }, () => Buffer.from(' '))], {
    pauseMs,
    timeoutMs: 15_000,
  });
}

test('a body trickled a byte at a time is cut off with 408 within the limit, on every kind of route', async () => {
  const routes = [
    `POST /v3/async/wan2.7-t2v HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 500\r\n\r\n`,
    `POST /v3/uploads HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: image/png\r\nContent-Length: 500\r\n\r\n`,
    // Chunked: a chunk of 500 bytes announced, then trickled.
    `POST /v3/nowhere HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1f4\r\n`,
  ];
  const limitMs = (bodyTimeoutSeconds + 1.5) * 1000;
  await Promise.all(
    routes.map(async (head) => {
      const exchange = await trickle(head, 100, 250);
      const body = assertDocumented(exchange.responses[0], 408, 'REQUEST_TIMEOUT');
      assert.match(body.message, /request_body_timeout_seconds/);
      assert.equal(body.metadata.limit_seconds, bodyTimeoutSeconds);
      assert.equal(exchange.closed, true);
      assert.ok(exchange.elapsedMs < limitMs, `${head.split('\r\n')[0]}: cut after ${exchange.elapsedMs} ms`);
    }),
  );
  // A body nobody reads (a GET answered at once) is cut by closing the connection.
  const unread = await trickle('GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n', 100, 250);
  assert.equal(unread.responses[0]?.status, 200);
  assert.equal(unread.closed, true);
  assert.ok(unread.elapsedMs < limitMs, `cut after ${unread.elapsedMs} ms`);
});

test('a multipart create of /v1/videos trickled a byte at a time is cut off with 408 in the OpenAI error shape', async () => {
  // @fastify/multipart reads the request itself: the deadline reaches it through the route.
  const head = `POST /v1/videos HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 500\r\n\r\n`;
  const exchange = await trickle(head, 100, 250);
  const response = exchange.responses[0];
  assert.equal(response?.status, 408, response?.body);
  const body = JSON.parse(response.body) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'request_timeout');
  assert.match(body.error.message, /request_body_timeout_seconds/);
  assert.equal(exchange.closed, true);
  assert.ok(exchange.elapsedMs < (bodyTimeoutSeconds + 1.5) * 1000, `cut after ${exchange.elapsedMs} ms`);
});

test('an upload that stalls half-way is cut off with 408 and leaves no file behind', async () => {
  const png = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452000000100000001008060000001ff3ff61', 'hex'), Buffer.alloc(6000)]);
  const head = Buffer.from(`POST /v3/uploads HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 20000\r\n\r\n`);
  // The format is known and the file is being written when the body stalls.
  const exchange = await rawExchange(server.url, [Buffer.concat([head, png]), ...Array.from({ length: 40 }, () => Buffer.from([0]))], {
    pauseMs: 250,
    timeoutMs: 15_000,
  });
  assertDocumented(exchange.responses[0], 408, 'REQUEST_TIMEOUT');
  const uploads = path.join(dataDir, 'blobs', 'uploads');
  const files = existsSync(uploads) ? readdirSync(uploads, { recursive: true }).map(String).filter((entry) => entry.includes('.')) : [];
  assert.deepEqual(files, [], 'neither the file nor a partial one is kept');
});

test('a long body that keeps the minimum pace is not cut, however long it takes', async () => {
  // 8 KB at 2 KB/s: twice the minimum pace, twice as long as the body timeout.
  const body = Buffer.from(JSON.stringify({ prompt: 'p'.repeat(8000), size: '1280*720', duration: 2 }));
  const head = Buffer.from(
    `POST /v3/async/wan2.7-t2v HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${auth}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
  );
  const pieces = [head, ...Array.from({ length: Math.ceil(body.length / 512) }, (_, index) => body.subarray(index * 512, (index + 1) * 512))];
  const exchange = await rawExchange(server.url, pieces, { pauseMs: 250, timeoutMs: 10_000 });
  assert.ok(exchange.elapsedMs > bodyTimeoutSeconds * 1000, `took ${exchange.elapsedMs} ms`);
  assert.equal(exchange.responses[0]?.status, 200, exchange.responses[0]?.body);
  assert.ok(JSON.parse(exchange.responses[0].body).task_id);
});

test(`JSON nested deeper than ${maxNestingDepth} levels is refused before any recursive work, naming the limit`, async () => {
  for (const depth of [maxNestingDepth + 1, 3000, 100_000]) {
    // The body object and `extra` are two levels.
    const extra = `${'['.repeat(depth - 2)}${']'.repeat(depth - 2)}`;
    const { status, body } = await submitRaw('wan2.7-t2v', `{"prompt":"x","extra":{"deep":${extra}}}`);
    assert.equal(status, 400, `${depth} levels`);
    assert.equal(body.reason, 'INVALID_REQUEST_BODY');
    assert.equal(body.metadata.limit, maxNestingDepth);
    assert.equal(body.message, `the request body nests objects and arrays deeper than the limit of ${maxNestingDepth} levels`);
  }
  // Brackets inside strings are text, not nesting.
  const inString = await submitRaw('wan2.7-t2v', JSON.stringify({ prompt: '['.repeat(5000), size: '1280*720', duration: 2 }));
  assert.equal(inString.status, 200, JSON.stringify(inString.body));
  const atLimit = `${'['.repeat(maxNestingDepth - 2)}${']'.repeat(maxNestingDepth - 2)}`;
  const accepted = await submitRaw('wan2.7-t2v', `{"prompt":"x","size":"1280*720","duration":2,"extra":{"deep":${atLimit}}}`);
  assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
});

test('a wrong Content-Type is named as sent; broken JSON says where; an empty body says so', async () => {
  const text = await submitRaw('wan2.7-t2v', 'prompt', 'text/plain; charset=utf-8');
  assert.equal(text.status, 400);
  assert.equal(text.body.message, 'Content-Type must be application/json, got "text/plain; charset=utf-8"');
  const broken = await submitRaw('wan2.7-t2v', '{"prompt": "x",}');
  assert.match(broken.body.message, /^the request body is not valid JSON: .*position/);
  const empty = await submitRaw('wan2.7-t2v', '');
  assert.equal(empty.body.message, 'the request body is empty: send a JSON object');
  const poisoned = await submitRaw('wan2.7-t2v', '{"prompt":"x","__proto__":{"admin":true}}');
  assert.match(poisoned.body.message, /__proto__/);
});

test('an upper-case URL scheme is accepted at submit, and the media fetcher downloads it', async () => {
  const toolchain = await testToolchain();
  const media = tempDir('wan-scheme-');
  await makeImage(toolchain, path.join(media, 'square.png'), { width: 400, height: 400 });
  const url = (await serveDirectory(media)).url('square.png').replace(/^http:/, 'HTTP:');
  const submitted = await client.submit('wan2.7-i2v', { prompt: 'waves', image_url: url, resolution: '720P', duration: 2 });
  assert.equal(submitted.status, 200, JSON.stringify(submitted.body));
  const result = await client.waitForEnd(submitted.body.task_id, 30_000);
  assert.equal(result.task.status, 'TASK_STATUS_SUCCEED', result.task.reason);
});

test('a range past the end of a file is answered 416 in the documented body, with the size in Content-Range', async () => {
  const { body } = await client.submit('wan2.7-t2v', { prompt: 'range', size: '1280*720', duration: 2 });
  const result = await client.waitForEnd(body.task_id);
  const response = await fetch(result.videos[0].video_url, { headers: { range: 'bytes=999999-' } });
  const size = Number((await fetch(result.videos[0].video_url, { method: 'HEAD' })).headers.get('content-length'));
  assert.equal(response.status, 416);
  assert.equal(response.headers.get('content-range'), `bytes */${size}`);
  const error = await response.json();
  assert.equal(contractViolation(416, response.headers.get('content-type') ?? undefined, JSON.stringify(error)), undefined);
  assert.equal(error.reason, 'RANGE_NOT_SATISFIABLE');
  assert.equal(error.metadata.size_bytes, size);
});

/** The HTTP layer alone: the probes need nothing else. */
function probesOnly(isReady: () => Promise<{ ready: boolean; checks: Record<string, string> }>) {
  return createServer({
    tasks: {} as never,
    auth: {} as never,
    blobs: {} as never,
    uploads: {} as never,
    store: {} as never,
    toolchain: {} as never,
    resultRetentionMs: 0,
    signer: {} as never,
    logger: pino({ level: 'silent' }),
    maxBodyBytes: 1024,
    uploadUrlTtlSeconds: 60,
    httpSettings: httpSettingsOf(loadConfig({ flags: { data_dir: '/nonexistent' } })),
    isReady,
  });
}

test('a server that is not ready answers /readyz 503 in the documented body, naming the failing check', async () => {
  const app = probesOnly(async () => ({ ready: false, checks: { database: 'SQLITE_BUSY', worker: 'ok' } }));
  const response = await app.inject({ method: 'GET', url: '/readyz' });
  assert.equal(response.statusCode, 503);
  const body = response.json();
  assert.deepEqual(Object.keys(body).sort(), ['code', 'message', 'metadata', 'reason']);
  assert.equal(body.code, 503);
  assert.equal(body.reason, 'SERVICE_UNAVAILABLE');
  assert.equal(body.message, 'not ready: database: SQLITE_BUSY');
  assert.deepEqual(body.metadata.checks, { database: 'SQLITE_BUSY', worker: 'ok' });
  await app.close();
});

test('a request that arrives while the server closes is answered 503 in the documented body', async () => {
  let answerProbe: () => void = () => {};
  const app = probesOnly(() => new Promise((resolve) => (answerProbe = () => resolve({ ready: true, checks: {} }))));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  // A probe in flight keeps the connection open; a second request follows it on the same connection.
  const exchange = rawExchange(url, [Buffer.from('GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n'), Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')], {
    pauseMs: 300,
    responses: 2,
  });
  await sleep(100);
  const closed = app.close();
  await sleep(400);
  answerProbe();
  const [probe, late] = (await exchange).responses;
  assert.equal(probe?.status, 200, 'the request in flight is answered');
  const body = assertDocumented(late, 503, 'SERVICE_UNAVAILABLE');
  assert.match(body.message, /shutting down/);
  assert.equal(late.headers.connection, 'close');
  await closed;
});
