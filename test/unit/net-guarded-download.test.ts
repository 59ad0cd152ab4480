import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, isIP, type AddressInfo, type Socket } from 'node:net';
import path from 'node:path';
import { after, test } from 'node:test';
import { AddressPolicy, type AddressPolicyOptions } from '../../src/net/address-policy.js';
import { DownloadError } from '../../src/net/download-error.js';
import { GuardedDownloader, type GuardedDownloaderOptions, type LookupAll } from '../../src/net/guarded-downloader.js';
import { tempDir } from '../support/temp-dir.js';

const directory = tempDir('wan-net-');
const body = randomBytes(200_000);
const requests: string[] = [];
let connections = 0;
let endlessSocketClosed: Promise<void> | undefined;

const routes: Record<string, (response: ServerResponse) => void> = {
  '/file': (response) => response.writeHead(200, { 'content-type': 'image/png' }).end(body),
  '/secret': (response) => response.writeHead(200).end('internal'),
  '/missing': (response) => response.writeHead(404).end(),
  '/to-loopback': (response) => response.writeHead(302, { location: `http://127.0.0.1:${port}/secret` }).end(),
  '/to-private': (response) => response.writeHead(302, { location: 'http://private.test/secret' }).end(),
  '/to-ftp': (response) => response.writeHead(301, { location: 'ftp://fixture.test/file' }).end(),
  '/endless': (response) => {
    response.writeHead(200);
    endlessSocketClosed = new Promise((resolve) => response.socket?.once('close', () => resolve()));
    const chunk = Buffer.alloc(64 * 1024);
    const pump = () => {
      while (!response.destroyed && response.write(chunk));
    };
    response.on('drain', pump);
    pump();
  },
  '/declares-huge': (response) => response.writeHead(200, { 'content-length': '10000000' }).write('a little, then nothing'),
  '/stall': (response) => response.writeHead(200).write('headers and a first byte, then nothing'),
  '/slow': (response) => {
    response.writeHead(200);
    let sent = 0;
    const timer = setInterval(() => {
      response.write(body.subarray(sent * 1000, ++sent * 1000));
      if (sent === 5) {
        clearInterval(timer);
        response.end();
      }
    }, 40);
  },
};

const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://fixture');
  requests.push(`${request.headers.host} ${url.pathname}`);
  const hops = /^\/hop\/(\d+)$/.exec(url.pathname);
  if (hops) {
    const left = Number(hops[1]);
    if (left === 0) response.writeHead(200).end('arrived');
    else response.writeHead(302, { location: `/hop/${left - 1}` }).end();
    return;
  }
  (routes[url.pathname] ?? routes['/missing'])(response);
});
server.on('connection', () => connections++);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
after(() => {
  server.closeAllConnections();
  server.close();
});

const dnsTable: Record<string, string[]> = {
  'fixture.test': ['127.0.0.1'],
  'internal.test': ['10.0.0.5'],
  'private.test': ['192.168.0.10'],
  'mixed.test': ['127.0.0.1', '10.0.0.5'],
};
let lookups: string[] = [];
const lookup: LookupAll = async (hostname) => {
  lookups.push(hostname);
  const addresses = dnsTable[hostname];
  if (!addresses) throw new Error(`getaddrinfo ENOTFOUND ${hostname}`);
  return addresses.map((address) => ({ address, family: isIP(address) }));
};

const loopbackAllowed: AddressPolicyOptions = { allowRanges: ['127.0.0.1/32'] };

function downloader(policy: AddressPolicyOptions = {}, options: Partial<GuardedDownloaderOptions> = {}): GuardedDownloader {
  return new GuardedDownloader({ policy: new AddressPolicy(policy), lookup, connectTimeoutMs: 500, totalTimeoutMs: 3000, ...options });
}

let files = 0;
function newFile(): string {
  return path.join(directory, `download-${files++}`);
}

async function failure(download: Promise<unknown>): Promise<DownloadError> {
  try {
    await download;
  } catch (error) {
    assert.ok(error instanceof DownloadError, `expected a DownloadError, got ${String(error)}`);
    return error;
  }
  assert.fail('the download succeeded');
}

const local = (route: string) => `http://127.0.0.1:${port}${route}`;
const fixture = (route: string) => `http://fixture.test:${port}${route}`;

test('the default policy refuses a loopback URL without connecting', async () => {
  const before = connections;
  const file = newFile();
  const error = await failure(downloader().download(local('/file'), file, { maxBytes: 1e6 }));
  assert.equal(error.code, 'ADDRESS_NOT_ALLOWED');
  assert.equal(error.message, `refusing ${local('/file')}: 127.0.0.1 is a loopback address`);
  assert.equal(connections, before);
  assert.equal(existsSync(file), false);
});

test('loopback literals in every spelling are refused', async () => {
  for (const url of [`http://[::1]:${port}/`, `http://2130706433:${port}/`, `http://0x7f.1:${port}/`, `http://[::ffff:127.0.0.1]:${port}/`]) {
    const error = await failure(downloader().download(url, newFile(), { maxBytes: 1e6 }));
    assert.equal(error.code, 'ADDRESS_NOT_ALLOWED', url);
    assert.match(error.message, /loopback/, url);
  }
});

test('with the loopback range allowed the same download works, byte for byte', async () => {
  const file = newFile();
  const result = await downloader(loopbackAllowed).download(local('/file'), file, { maxBytes: 1e6 });
  assert.deepEqual(result, { bytes: body.length, contentType: 'image/png', finalUrl: local('/file') });
  assert.deepEqual(readFileSync(file), body);
});

test('an allowed host is looked up once and connected to at the checked address, under its own name', async () => {
  lookups = [];
  requests.length = 0;
  const file = newFile();
  await downloader({ allowHosts: ['fixture.test'] }).download(fixture('/file'), file, { maxBytes: 1e6 });
  assert.deepEqual(lookups, ['fixture.test'], 'no second lookup that a rebinding DNS server could answer differently');
  assert.deepEqual(requests, [`fixture.test:${port} /file`]);
  assert.deepEqual(readFileSync(file), body);
});

test('a host that resolves to a private address is refused before any connection', async () => {
  const before = connections;
  const error = await failure(downloader().download(`http://internal.test:${port}/file`, newFile(), { maxBytes: 1e6 }));
  assert.equal(error.code, 'ADDRESS_NOT_ALLOWED');
  assert.equal(error.message, `refusing http://internal.test:${port}/file: internal.test resolves to a refused address: 10.0.0.5 is a private address`);
  assert.equal(connections, before);
});

test('a host with one acceptable and one private address is refused, even though the first would be fine', async () => {
  const before = connections;
  const error = await failure(downloader(loopbackAllowed).download(`http://mixed.test:${port}/file`, newFile(), { maxBytes: 1e6 }));
  assert.equal(error.code, 'ADDRESS_NOT_ALLOWED');
  assert.match(error.message, /mixed\.test resolves to a refused address: 10\.0\.0\.5 is a private address/);
  assert.equal(connections, before);
});

test('a redirect from an allowed host is checked again: to loopback or to a private host it is refused', async () => {
  requests.length = 0;
  const trustingFixture = downloader({ allowHosts: ['fixture.test'] });
  const toLoopback = await failure(trustingFixture.download(fixture('/to-loopback'), newFile(), { maxBytes: 1e6 }));
  assert.equal(toLoopback.code, 'ADDRESS_NOT_ALLOWED');
  assert.equal(toLoopback.message, `refusing ${local('/secret')}: 127.0.0.1 is a loopback address`);
  const toPrivate = await failure(trustingFixture.download(fixture('/to-private'), newFile(), { maxBytes: 1e6 }));
  assert.equal(toPrivate.code, 'ADDRESS_NOT_ALLOWED');
  assert.match(toPrivate.message, /private\.test resolves to a refused address: 192\.168\.0\.10 is a private address/);
  assert.deepEqual(requests, [`fixture.test:${port} /to-loopback`, `fixture.test:${port} /to-private`], 'the secret was never asked for');
});

test('a redirect to another scheme is refused', async () => {
  const error = await failure(downloader(loopbackAllowed).download(local('/to-ftp'), newFile(), { maxBytes: 1e6 }));
  assert.equal(error.code, 'URL_NOT_ALLOWED');
  assert.equal(error.message, `${local('/to-ftp')} redirects to a URL that uses ftp:; only http: and https: URLs are accepted`);
});

test('five redirects are followed, a sixth is refused', async () => {
  const file = newFile();
  const result = await downloader(loopbackAllowed).download(local('/hop/5'), file, { maxBytes: 1e6 });
  assert.equal(result.finalUrl, local('/hop/0'));
  assert.equal(readFileSync(file, 'utf8'), 'arrived');
  const error = await failure(downloader(loopbackAllowed).download(local('/hop/6'), newFile(), { maxBytes: 1e6 }));
  assert.equal(error.code, 'TOO_MANY_REDIRECTS');
  assert.equal(error.message, `${local('/hop/6')} redirects more than 5 times`);
});

test('an endless body stops past the limit: no partial file, and the connection is closed', { timeout: 5000 }, async () => {
  const file = newFile();
  const error = await failure(downloader(loopbackAllowed).download(local('/endless'), file, { maxBytes: 300_000 }));
  assert.equal(error.code, 'TOO_LARGE');
  assert.equal(error.limitBytes, 300_000);
  assert.equal(existsSync(file), false);
  await endlessSocketClosed;
});

test('a declared Content-Length over the limit fails at once', async () => {
  const file = newFile();
  const started = Date.now();
  const error = await failure(downloader(loopbackAllowed).download(local('/declares-huge'), file, { maxBytes: 1000 }));
  assert.equal(error.code, 'TOO_LARGE');
  assert.equal(error.message, `${local('/declares-huge')} declares 10000000 bytes, over the limit of 1000 bytes`);
  assert.ok(Date.now() - started < 1000, 'did not wait for the body');
  assert.equal(existsSync(file), false);
});

test('a server that stalls after the headers hits the total timeout', async () => {
  const file = newFile();
  const error = await failure(downloader(loopbackAllowed, { totalTimeoutMs: 300 }).download(local('/stall'), file, { maxBytes: 1e6 }));
  assert.equal(error.code, 'TIMEOUT');
  assert.equal(error.message, `downloading ${local('/stall')} took longer than 0.3 s in total`);
  assert.equal(existsSync(file), false);
});

test('a connection that never completes hits the connect timeout', async (t) => {
  // A TCP server that never answers the TLS handshake: the connection is never made.
  const silent = createTcpServer();
  const sockets: Socket[] = [];
  silent.on('connection', (socket) => sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    silent.close();
  });
  const origin = `https://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  const error = await failure(downloader(loopbackAllowed, { connectTimeoutMs: 200 }).download(`${origin}/file`, newFile(), { maxBytes: 1e6 }));
  assert.equal(error.code, 'TIMEOUT');
  assert.equal(error.message, `connecting to ${origin} took longer than 0.2 s`);
});

test('a slow server within the limits succeeds, the connect timeout ending once connected', async () => {
  const file = newFile();
  const result = await downloader(loopbackAllowed, { connectTimeoutMs: 100, totalTimeoutMs: 2000 }).download(local('/slow'), file, { maxBytes: 1e6 });
  assert.equal(result.bytes, 5000);
  assert.deepEqual(readFileSync(file), body.subarray(0, 5000));
});

test('an answer other than 2xx fails with its status', async () => {
  const error = await failure(downloader(loopbackAllowed).download(local('/missing'), newFile(), { maxBytes: 1e6 }));
  assert.equal(error.code, 'HTTP_STATUS');
  assert.equal(error.status, 404);
  assert.equal(error.message, `${local('/missing')} answered HTTP 404`);
});

test('schemes other than http and https, and credentials, are refused', async () => {
  for (const url of ['file:///etc/passwd', 'ftp://example.com/a.png', 'data:image/png;base64,AAAA', 'gopher://example.com/', `http://user:pass@127.0.0.1:${port}/file`, 'not a url']) {
    const error = await failure(downloader(loopbackAllowed).download(url, newFile(), { maxBytes: 1e6 }));
    assert.equal(error.code, 'URL_NOT_ALLOWED', url);
    assert.doesNotMatch(error.message, /user:|pass@|\/etc/, url);
  }
});

test('no message carries the query string of the URL', async () => {
  const signed = (url: string) => `${url}?signature=secret&expires=1`;
  const failures = [
    await failure(downloader().download(signed(local('/file')), newFile(), { maxBytes: 1e6 })),
    await failure(downloader(loopbackAllowed).download(signed(local('/missing')), newFile(), { maxBytes: 1e6 })),
    await failure(downloader(loopbackAllowed).download(signed(local('/hop/9')), newFile(), { maxBytes: 1e6 })),
    await failure(downloader(loopbackAllowed).download(signed(local('/endless')), newFile(), { maxBytes: 1000 })),
  ];
  for (const error of failures) assert.doesNotMatch(error.message, /secret|signature/, error.message);
});

test('the unreachable: an unknown host, a refused connection', async () => {
  const unknown = await failure(downloader().download('http://nowhere.test/file', newFile(), { maxBytes: 1e6 }));
  assert.equal(unknown.code, 'UNREACHABLE');
  assert.equal(unknown.message, 'cannot resolve nowhere.test: getaddrinfo ENOTFOUND nowhere.test');
  const closed = createTcpServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const refused = await failure(downloader(loopbackAllowed).download(`http://127.0.0.1:${closedPort}/`, newFile(), { maxBytes: 1e6 }));
  assert.equal(refused.code, 'UNREACHABLE');
  assert.match(refused.message, /^cannot connect to http:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED/);
});

test("the caller's signal aborts the download with its reason and removes the partial file", async () => {
  const file = newFile();
  const controller = new AbortController();
  const download = downloader(loopbackAllowed).download(local('/stall'), file, { maxBytes: 1e6, signal: controller.signal });
  setTimeout(() => controller.abort(new Error('the task was cancelled')), 100);
  await assert.rejects(download, { message: 'the task was cancelled' });
  assert.equal(existsSync(file), false);
  const before = connections;
  await assert.rejects(
    downloader(loopbackAllowed).download(local('/file'), newFile(), { maxBytes: 1e6, signal: AbortSignal.abort() }),
    { name: 'AbortError' },
  );
  assert.equal(connections, before, 'an aborted signal stops the download before it connects');
});
