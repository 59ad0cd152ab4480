import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { LocalBlobStore } from '../../src/blobs/local/local-blob-store.js';
import { UrlSigner } from '../../src/blobs/url-signer.js';
import { upstreamMediaUrls } from '../../src/media/upstream-media-urls.js';
import { ApiError } from '../../src/spec/api-error.js';
import { tempDir } from '../support/temp-dir.js';

const storeAt = (base: string) => new LocalBlobStore(path.join(tempDir(), 'blobs'), new UrlSigner('secret'), () => base);
const inAnHour = () => Date.now() + 3_600_000;

test('public URLs pass unchanged whatever the server address', () => {
  const urls = upstreamMediaUrls(storeAt('http://127.0.0.1:8080'), undefined);
  assert.equal(urls('image_url', 'https://cdn.example.com/a.png'), 'https://cdn.example.com/a.png');
});

test('an upload passes when public_url is a public name, and fails at once with MEDIA_NOT_REACHABLE when it is private', () => {
  const publicStore = storeAt('https://wan.example.com');
  const upload = publicStore.signedUrl('uploads/0193/a.png', inAnHour());
  assert.equal(upstreamMediaUrls(publicStore, 'https://wan.example.com')('image_url', upload), upload);

  for (const base of ['http://127.0.0.1:8080', 'http://10.1.2.3', 'http://localhost:8080', 'http://media.internal']) {
    const store = storeAt(base);
    const local = store.signedUrl('uploads/0193/a.png', inAnHour());
    assert.throws(
      () => upstreamMediaUrls(store, base)('media[0].url', local),
      (error: ApiError) => error.reason === 'MEDIA_NOT_REACHABLE' && /^media\[0\]\.url: this file was uploaded to this server/.test(error.message),
      base,
    );
  }
  const unset = storeAt('http://0.0.0.0:8080');
  assert.throws(() => upstreamMediaUrls(unset, undefined)('image_url', unset.signedUrl('uploads/x/a.png', inAnHour())), /set public_url/);
});
