import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { models, modelPath } from '../../src/models/registry.js';
import { contractViolation, rawExchange } from '../support/raw-http.js';
import { collectGarbage, inspectorUrlIn } from '../support/inspector-gc.js';
import { startServerProcess } from '../support/server-process.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * Property-based fuzzing of the real `wan serve` process: thousands of random and malformed
 * requests at every endpoint, as HTTP requests (methods, paths, query strings, headers, bodies)
 * and as raw bytes on a socket (request lines, headers, framing, chunks, lengths that lie).
 * Whatever is sent, no answer is a 5xx, every error is exactly the documented body, nothing is
 * logged as an error, the server is alive at the end and its RSS, after a full garbage
 * collection, is within 50 MB of where it started.
 *
 * The worker runs no task (`--worker-concurrency 0`): valid submissions are stored, never
 * rendered. Replay a failure with the seed printed by the test: WAN_FUZZ_SEED=<seed>; run more
 * with WAN_FUZZ_RUNS=<HTTP requests> (3000 by default; a third as many raw exchanges follow).
 */
const seed = process.env.WAN_FUZZ_SEED ? Number(process.env.WAN_FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const requestRuns = Number(process.env.WAN_FUZZ_RUNS ?? 3000);
const rawRuns = Math.ceil(requestRuns / 3);
const maxBodyBytes = 64 * 1024;
const allowedGrowthBytes = 50 * 1024 * 1024;

const server = await startServerProcess(tempDir('wan-fuzz-'), [
  '--worker-concurrency', '0',
  '--max-body-bytes', String(maxBodyBytes),
  '--request-header-timeout-seconds', '2',
  '--request-body-timeout-seconds', '2',
  // The inspector, on loopback, lets the test collect the server's garbage before reading its RSS.
], { NODE_OPTIONS: '--inspect=127.0.0.1:0' });
const { hostname, port } = new URL(server.url);

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

interface FuzzAnswer {
  status: number;
  contentType?: string;
  body: string;
}

/** Sends exactly what it is given (node:http adds Host and Connection: close). */
function send(request: FuzzRequest): Promise<FuzzAnswer> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      { host: hostname, port, method: request.method, path: request.path, headers: request.headers, agent: false, timeout: 15_000 },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, contentType: response.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error('no answer in 15 s')));
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}

function describe(request: FuzzRequest): string {
  const body = request.body ? ` body(${request.body.length} bytes)=${JSON.stringify(request.body.subarray(0, 200).toString('latin1'))}` : '';
  return `${request.method} ${request.path.slice(0, 300)} ${JSON.stringify(request.headers).slice(0, 600)}${body}`;
}

const png = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452000000100000001008060000001ff3ff61', 'hex'), Buffer.alloc(64)]);

/** The key, and real things to aim at: a task, and the signed URL of an upload (a PNG signature is enough). */
async function prepare(): Promise<{ apiKey: string; fileUrl: URL; taskId: string }> {
  // The first key is printed on stderr right after the server says it listens.
  for (let waited = 0; !/wan_\w/.test(server.stderr()) && waited < 5000; waited += 50) await sleep(50);
  const apiKey = /wan_[A-Za-z0-9_-]+/.exec(server.stderr())?.[0];
  assert.ok(apiKey, `the first API key is printed on stderr: ${server.stderr()}`);
  const uploaded = await send({ method: 'POST', path: '/v3/uploads', headers: { authorization: `Bearer ${apiKey}`, 'x-file-name': 'a.png' }, body: png });
  assert.equal(uploaded.status, 200, uploaded.body);
  const submitted = await send({
    method: 'POST',
    path: '/v3/async/wan2.7-t2v',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify({ prompt: 'fuzz', size: '1280*720', duration: 2 })),
  });
  assert.equal(submitted.status, 200, submitted.body);
  return { apiKey, fileUrl: new URL(JSON.parse(uploaded.body).url), taskId: JSON.parse(submitted.body).task_id };
}

// A failure here ends the file before any test runs, and with it the hook that stops the server.
const { apiKey, fileUrl, taskId } = await prepare().catch(async (error: unknown) => {
  await server.kill9();
  throw error;
});

const knownPaths = [...models.map(modelPath), '/v3/async/task-result', '/v3/uploads', fileUrl.pathname, '/healthz', '/readyz', '/openapi.json'];
const validRequests: Record<string, unknown>[] = [
  { prompt: 'a paper boat', size: '1280*720', duration: 2, seed: 1 },
  { prompt: 'waves', image_url: 'https://example.com/a.png', resolution: '720P', duration: 2 },
  { prompt: 'character1 waves', media: [{ type: 'reference_image', url: 'https://example.com/a.png' }], size: '1280*720', duration: 2 },
  { prompt: 'clay', video_url: 'HTTP://example.com/v.mp4', resolution: '720P', duration: 0 },
];
const fieldNames = [...new Set(models.flatMap((model) => Object.keys((model.schema as { properties: object }).properties)))];

const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,120}$/);
const token = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,24}$/);
const urlText = fc.stringMatching(/^[\x21-\x7e]{0,200}$/);

const pathArbitrary = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...knownPaths) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...knownPaths), urlText).map(([path, junk]) => path + junk) },
  { weight: 1, arbitrary: fc.webPath().map((path) => path || '/') },
  { weight: 1, arbitrary: urlText.map((junk) => `/${junk}`) },
  { weight: 1, arbitrary: fc.constantFrom('/v3/files/%E0%A4%A', '/v3/files/../../etc/passwd', '/v3/files/', '//healthz', '/v3/async/', `/${'a'.repeat(5000)}`) },
);
const queryArbitrary = fc.oneof(
  { weight: 4, arbitrary: fc.constant('') },
  { weight: 3, arbitrary: fc.constantFrom(`?task_id=${taskId}`, fileUrl.search) },
  { weight: 2, arbitrary: fc.webQueryParameters().map((query) => `?${query}`) },
  { weight: 2, arbitrary: urlText.map((junk) => `?${junk}`) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '?task_id=',
      '?task_id=a&task_id=b',
      '?task_id=%zz',
      '?task_id[]=1',
      '?__proto__[admin]=1',
      fileUrl.search.replace(/signature=[^&]+/, 'signature=forged'),
      fileUrl.search.replace(/expires=\d+/, 'expires=1'),
      fileUrl.search.replace(/expires=\d+/, 'expires=1e99'),
    ),
  },
);
const authorization = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(`Bearer ${apiKey}`, apiKey) },
  { weight: 2, arbitrary: fc.constantFrom(undefined, '', 'Bearer ', 'Bearer wan_nope', 'Basic dXNlcjpwYXNz', `Bearer  ${apiKey}`, `bearer ${apiKey}`) },
  { weight: 1, arbitrary: headerValue },
);
const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      undefined,
      'APPLICATION/JSON',
      'application/json; charset=latin1',
      'text/plain',
      'application/octet-stream',
      'image/png',
      'multipart/form-data; boundary=x',
      'application/x-www-form-urlencoded',
      'application/vnd.api+json',
      ';',
      'application/json; =',
      '*/*',
    ),
  },
  { weight: 1, arbitrary: headerValue },
);
/** Headers the API reads or the protocol gives meaning to, a few at a time. */
const meaningfulHeader = fc.oneof(
  fc.tuple(fc.constant('range'), fc.oneof(fc.constantFrom('bytes=0-3', 'bytes=-5', 'bytes=5-', 'bytes=9999999-', 'bytes=3-1', 'bytes=0-1,4-5', 'bytes=-0', 'pages=1'), headerValue)),
  fc.tuple(fc.constant('origin'), fc.constantFrom('https://app.example', 'null', 'http://localhost:3000')),
  fc.tuple(fc.constant('access-control-request-method'), fc.constantFrom('POST', 'GET', 'DELETE', 'BREW')),
  fc.tuple(fc.constant('x-file-name'), headerValue),
  fc.tuple(fc.constant('idempotency-key'), headerValue),
  fc.tuple(fc.constant('last-event-id'), headerValue),
  fc.tuple(fc.constant('expect'), fc.constantFrom('100-continue', 'teapot')),
  fc.tuple(fc.constant('accept-encoding'), fc.constantFrom('gzip', 'br', 'identity;q=0', '*')),
  fc.tuple(fc.constant('if-none-match'), headerValue),
);
const optionalHeaders = fc.array(meaningfulHeader, { maxLength: 2 }).map((entries) => Object.fromEntries(entries));
const randomHeaders = fc.dictionary(token, headerValue, { maxKeys: 4 });

/** A body of `depth` nested arrays or objects, closed or not: the stack-overflow shape. */
const deepBody = fc
  .tuple(fc.integer({ min: 1, max: 20_000 }), fc.constantFrom('[', '{"a":'), fc.boolean())
  .map(([depth, open, closed]) => `{"prompt":"x","extra":${open.repeat(depth)}1${closed ? (open === '[' ? ']' : '}').repeat(depth) : ''}}`);
const mutatedRequest = fc
  .tuple(
    fc.constantFrom(...validRequests),
    fc.dictionary(fc.oneof(fc.constantFrom(...fieldNames, 'extra', '__proto__', 'constructor'), fc.string({ maxLength: 20 })), fc.jsonValue({ maxDepth: 4 }), {
      maxKeys: 3,
    }),
  )
  .map(([valid, changes]) => JSON.stringify({ ...valid, ...changes }));
const body = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 6, arbitrary: mutatedRequest },
  { weight: 2, arbitrary: fc.jsonValue().map((value) => JSON.stringify(value)) },
  { weight: 2, arbitrary: fc.string({ maxLength: 300, unit: 'binary' }) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 2000 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 2, arbitrary: deepBody },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 500 }).map((bytes) => Buffer.concat([png, Buffer.from(bytes)])) },
  { weight: 1, arbitrary: fc.constantFrom('{"prompt":"x","__proto__":{"admin":true}}', '{"prompt":"x","constructor":{"prompt":"y"}}', '', ' ', 'null', '[]', '{}', `{"prompt":"${'x'.repeat(maxBodyBytes)}"}`) },
);

/** Anything at all, to any path. */
const anyRequest = fc.record({
  method: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('GET', 'POST') }, { weight: 2, arbitrary: fc.constantFrom('PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'PROPFIND', 'BREW') }),
  path: pathArbitrary,
  query: queryArbitrary,
  authorization,
  contentType,
  optional: optionalHeaders,
  random: randomHeaders,
  body,
});

/** Requests aimed at one endpoint, right but for a part or two, so that they get past the first checks. */
const bearer = fc.constantFrom(`Bearer ${apiKey}`, apiKey);
const aimedRequest = fc.oneof(
  fc.record({
    method: fc.constant('POST'),
    path: fc.constantFrom(...models.map(modelPath)),
    query: fc.constant(''),
    authorization: bearer,
    contentType: fc.constant('application/json'),
    optional: optionalHeaders,
    random: fc.constant({}),
    body: fc.oneof(fc.constantFrom(...validRequests.map((valid) => JSON.stringify(valid))), mutatedRequest),
  }),
  fc.record({
    method: fc.constant('GET'),
    path: fc.constant('/v3/async/task-result'),
    query: fc.oneof(fc.constant(`?task_id=${taskId}`), fc.webQueryParameters().map((query) => `?task_id=${query}`)),
    authorization: bearer,
    contentType: fc.constant(undefined),
    optional: optionalHeaders,
    random: fc.constant({}),
    body: fc.constant(undefined),
  }),
  fc.record({
    method: fc.constant('POST'),
    path: fc.constant('/v3/uploads'),
    query: fc.constant(''),
    authorization: bearer,
    contentType: contentType,
    optional: optionalHeaders,
    random: fc.constant({}),
    body: fc.oneof(fc.uint8Array({ maxLength: 500 }).map((bytes) => Buffer.concat([png, Buffer.from(bytes)])), fc.uint8Array({ maxLength: 5000 }).map((bytes) => Buffer.from(bytes))),
  }),
  fc.record({
    method: fc.constantFrom('GET', 'HEAD'),
    path: fc.constant(fileUrl.pathname),
    query: queryArbitrary,
    authorization: fc.constant(undefined),
    contentType: fc.constant(undefined),
    optional: optionalHeaders,
    random: fc.constant({}),
    body: fc.constant(undefined),
  }),
);

const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc
  .oneof(anyRequest, aimedRequest)
  .map(({ method, path, query, authorization: auth, contentType: type, optional, random, body: payload }) => {
    // One header of a kind: names are case-insensitive, and the framing is node:http's to set.
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries({ ...random, ...optional })) headers[name.toLowerCase()] = value;
    if (auth !== undefined) headers.authorization = auth;
    if (type !== undefined) headers['content-type'] = type;
    for (const name of ['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade']) delete headers[name];
    if (payload === undefined) return { method, path: path + query, headers };
    const bytes = Buffer.from(payload as string | Buffer);
    // Said explicitly: node:http leaves it out on a HEAD, whose body would then look like a second request.
    return { method, path: path + query, headers: { ...headers, 'content-length': String(bytes.length) }, body: bytes };
  });

/** Raw requests: every part may be malformed, and the framing may lie. */
const crlf = fc.constantFrom('\r\n', '\r\n', '\r\n', '\n', '\r');
const junkLine = fc.uint8Array({ minLength: 1, maxLength: 60 }).map((bytes) => Buffer.from(bytes.filter((byte) => byte !== 10 && byte !== 13)).toString('latin1'));
const rawHeaderLine = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(token, headerValue).map(([name, value]) => `${name}: ${value}`) },
  { weight: 2, arbitrary: junkLine },
  { weight: 1, arbitrary: headerValue.map((value) => ` ${value}`) },
  { weight: 1, arbitrary: fc.constantFrom('Content-Length: 5', 'Content-Length: -1', 'Content-Length: 1e3', 'Content-Length: 99999999999999999999', 'Content-Length:', 'Transfer-Encoding: gzip', 'Transfer-Encoding: chunked, gzip', 'Transfer-Encoding: identity', 'Host: a', 'Host: a:b:c', 'Expect: 100-continue', 'Connection: upgrade', 'Upgrade: h2c', 'X: \u0000', 'X:\ty') },
  { weight: 1, arbitrary: fc.integer({ min: 8000, max: 20_000 }).map((length) => `X-Big: ${'b'.repeat(length)}`) },
);
const framing = fc.constantFrom('none', 'length', 'short-length', 'long-length', 'chunked', 'bad-chunked', 'chunked-and-length');
const rawRequest = fc
  .record({
    method: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('GET', 'POST', 'OPTIONS', 'PUT', 'DELETE', 'CONNECT', 'PRI', 'TRACE') }, { weight: 1, arbitrary: token }, { weight: 1, arbitrary: junkLine }),
    target: fc.oneof(
      { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...knownPaths), queryArbitrary).map(([path, query]) => path + query) },
      { weight: 2, arbitrary: fc.constantFrom('*', 'http://x/healthz', 'example.com:443', '', '/a b', '/%00', `/${'c'.repeat(17_000)}`) },
      { weight: 1, arbitrary: junkLine },
    ),
    version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.2', 'HTTP/0.9', 'http/1.1', 'HTTP/11', ''),
    host: fc.boolean(),
    lines: fc.array(rawHeaderLine, { maxLength: 6 }),
    eol: crlf,
    framing,
    body: fc.oneof(fc.string({ maxLength: 200 }), deepBody, mutatedRequest),
    pipelined: fc.boolean(),
    halfClose: fc.boolean(),
  })
  .map((parts) => {
    const { method, target, version, host, lines, eol, body: text, pipelined } = parts;
    const payload = Buffer.from(text);
    const head = [`${method} ${target} ${version}`.trimEnd(), ...(host ? ['Host: x'] : []), ...lines];
    let tail: Buffer;
    switch (parts.framing) {
      case 'none':
        tail = Buffer.alloc(0);
        break;
      case 'length':
        head.push(`Content-Length: ${payload.length}`);
        tail = payload;
        break;
      case 'short-length':
        head.push(`Content-Length: ${Math.floor(payload.length / 2)}`);
        tail = payload;
        break;
      case 'long-length':
        head.push(`Content-Length: ${payload.length + 10}`);
        tail = payload;
        break;
      case 'chunked':
        head.push('Transfer-Encoding: chunked');
        tail = Buffer.concat([Buffer.from(`${payload.length.toString(16)}${eol}`), payload, Buffer.from(`${eol}0${eol}${eol}`)]);
        break;
      case 'bad-chunked':
        head.push('Transfer-Encoding: chunked');
        tail = Buffer.concat([Buffer.from(`${(payload.length + 3).toString(16)};ext${eol}`), payload, Buffer.from(`zz${eol}`)]);
        break;
      default:
        head.push('Transfer-Encoding: chunked', `Content-Length: ${payload.length}`);
        tail = payload;
    }
    const request = Buffer.concat([Buffer.from(head.join(eol) + eol + eol, 'latin1'), tail]);
    return {
      bytes: pipelined ? Buffer.concat([request, Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')]) : request,
      // A body shorter than announced would hold the connection until the body deadline; the
      // client's half-close ends it at once. Any other request may be half-closed too: a
      // half-close is no sign the client gave up (RFC 9112), and it is answered all the same.
      halfClose: parts.framing === 'long-length' || parts.halfClose,
      answers: pipelined ? 2 : 1,
    };
  });

function rssBytes(): number {
  const status = readFileSync(`/proc/${server.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
}

/** Both properties, `requestRuns` HTTP requests then `rawRuns` raw exchanges; counts the statuses seen. */
async function fuzz(runSeed: number, requestRuns: number, rawRuns: number, statuses: Map<number, number>): Promise<void> {
  const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
  await fc.assert(
    fc.asyncProperty(fuzzRequest, async (request) => {
      let answer: FuzzAnswer;
      try {
        answer = await send(request);
      } catch (error) {
        throw new Error(`no answer to ${describe(request)}: ${(error as Error).message}`);
      }
      count(answer.status);
      const violation = contractViolation(answer.status, answer.contentType, answer.body, request.method);
      if (violation) throw new Error(`${violation}\n  for ${describe(request)}`);
    }),
    { seed: runSeed, numRuns: requestRuns },
  );
  await fc.assert(
    fc.asyncProperty(rawRequest, async ({ bytes, halfClose, answers }) => {
      const exchange = await rawExchange(server.url, [bytes], { endAfterSending: halfClose, responses: answers, timeoutMs: 10_000 });
      const sent = JSON.stringify(bytes.subarray(0, 300).toString('latin1'));
      if (exchange.rest !== '') throw new Error(`the server wrote bytes that are not HTTP: ${JSON.stringify(exchange.rest.slice(0, 200))}\n  for ${sent}`);
      if (exchange.responses.length === 0) throw new Error(`no answer (closed: ${exchange.closed}) for ${sent}`);
      for (const response of exchange.responses) {
        count(response.status);
        const violation = contractViolation(response.status, response.headers['content-type'], response.body);
        if (violation) throw new Error(`${violation}\n  for ${sent}`);
      }
    }),
    { seed: runSeed, numRuns: rawRuns },
  );
}

test('thousands of random and malformed requests: no 5xx, every error in the documented body, the server alive and its memory back', async (t) => {
  t.diagnostic(`fuzz seed ${seed}: replay with WAN_FUZZ_SEED=${seed} node --import tsx --test test/http/fuzz.test.ts`);
  const inspector = inspectorUrlIn(server.stderr());
  assert.ok(inspector, 'the server runs with the inspector on loopback');
  // RSS is read after a full collection: what is alive, not the garbage of the moment (some 30 MB).
  await collectGarbage(inspector);
  const atStart = rssBytes();

  const statuses = new Map<number, number>();
  const started = performance.now();
  await fuzz(seed, requestRuns, rawRuns, statuses);
  const seconds = (performance.now() - started) / 1000;
  t.diagnostic(
    `${requestRuns} requests and ${rawRuns} raw exchanges in ${seconds.toFixed(1)} s; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`,
  );

  assert.equal(server.child.exitCode, null, 'the server is still running');
  const health = await send({ method: 'GET', path: '/healthz', headers: {} });
  assert.equal(health.status, 200);
  const failures = server.logs.filter((entry) => Number(entry.level) >= 50);
  assert.deepEqual(failures, [], 'no error was logged');

  await collectGarbage(inspector);
  const atEnd = rssBytes();
  const megabytes = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
  t.diagnostic(`RSS after a full collection: ${megabytes(atStart)} at start, ${megabytes(atEnd)} at the end`);
  assert.ok(atEnd <= atStart + allowedGrowthBytes, `RSS grew from ${megabytes(atStart)} to ${megabytes(atEnd)}`);
});
