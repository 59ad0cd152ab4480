import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { LocalBlobStore } from '../../src/blobs/local/local-blob-store.js';
import { UrlSigner } from '../../src/blobs/url-signer.js';
import { startLocalBlobServer } from '../support/local-blob-server.js';
import { tempDir } from '../support/temp-dir.js';

const served = await startLocalBlobServer();

async function put(key: string, text = 'x'): Promise<void> {
  await served.store.putStream(key, Readable.from([Buffer.from(text)]), 'video/mp4');
}

test('a local URL is signed over the key and its expiry, rounded up to the second, and a tampered one is refused', async () => {
  await put('videos/t-sign/0.mp4', 'zero');
  await put('videos/t-sign/1.mp4', 'one');
  const expiresAt = Date.now() + 60_000.5;
  const url = new URL(await served.store.url('videos/t-sign/0.mp4', expiresAt));
  assert.equal(url.origin + url.pathname, `${served.baseUrl}/v3/files/videos/t-sign/0.mp4`);
  const expires = Number(url.searchParams.get('expires'));
  assert.equal(expires, Math.ceil(expiresAt / 1000), 'works until at least the time asked');
  assert.equal(served.signer.verify('videos/t-sign/0.mp4', expires, url.searchParams.get('signature')!, Date.now()), 'valid');
  assert.equal(await (await fetch(url)).text(), 'zero');

  const otherFile = new URL(url);
  otherFile.pathname = '/v3/files/videos/t-sign/1.mp4';
  const longer = new URL(url);
  longer.searchParams.set('expires', String(expires + 3600));
  for (const tampered of [otherFile, longer]) {
    const response = await fetch(tampered);
    assert.equal(response.status, 403);
    assert.equal(((await response.json()) as { reason: string }).reason, 'INVALID_SIGNATURE');
  }
});

test('delete removes the folder a task result leaves empty, and keeps the top folder and folders still in use', async () => {
  await put('videos/t-delete/0.mp4');
  await put('videos/t-delete/1.mp4');
  await put('videos/t-other/0.mp4');
  await put('uploads/u-delete/a/b/clip.mp4');
  const at = (...segments: string[]) => path.join(served.root, ...segments);

  await served.store.delete(['videos/t-delete/0.mp4']);
  assert.equal(existsSync(at('videos', 't-delete', '0.mp4')), false);
  assert.equal(existsSync(at('videos', 't-delete', '1.mp4')), true, 'a folder still holding a file stays');

  await served.store.delete(['videos/t-delete/1.mp4']);
  assert.equal(existsSync(at('videos', 't-delete')), false, "the task's emptied folder goes");
  assert.equal(existsSync(at('videos', 't-other', '0.mp4')), true);

  await served.store.delete(['uploads/u-delete/a/b/clip.mp4']);
  assert.equal(existsSync(at('uploads', 'u-delete')), false, 'every emptied folder under the top one goes');
  assert.equal(existsSync(at('uploads')), true, 'the top folder stays for other writers');
  assert.equal((await fetch(await served.store.url('videos/t-delete/1.mp4', Date.now() + 60_000))).status, 404);
});

test('local URLs reach outside only when the base URL is a public address', () => {
  let base = '';
  const store = new LocalBlobStore(path.join(tempDir(), 'blobs'), new UrlSigner('s'), () => base);
  assert.equal(store.urlsReachOutside, false, 'before the server knows its address');
  const verdicts: Record<string, boolean> = {
    'https://wan.example.com': true,
    'http://8.8.8.8:8080': true,
    'http://[2606:4700:4700::1111]': true,
    'http://127.0.0.1:8080': false,
    'http://[::1]:8080': false,
    'http://10.1.2.3': false,
    'http://192.168.1.20:8080': false,
    'http://100.64.1.1': false,
    'http://203.0.113.10': false,
    'http://localhost:8080': false,
    'http://wan.localhost': false,
    'http://media.internal': false,
    'http://printer.local': false,
    'http://router.home.arpa': false,
    'http://wan:8080': false,
    'wan.example.com': false,
  };
  for (const [url, reachable] of Object.entries(verdicts)) {
    base = url;
    assert.equal(store.urlsReachOutside, reachable, url);
  }
});
