import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { LocalBlobStore } from '../../src/blobs/local/local-blob-store.js';
import { UrlSigner } from '../../src/blobs/url-signer.js';
import { OwnUploads, uploadUrlHash } from '../../src/media/own-uploads.js';
import { upstreamMediaUrls } from '../../src/media/upstream-media-urls.js';
import { ApiError } from '../../src/spec/api-error.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempDir } from '../support/temp-dir.js';

const storeAt = (base: string) => new LocalBlobStore(path.join(tempDir(), 'blobs'), new UrlSigner('secret'), () => base);
const inAnHour = () => Date.now() + 3_600_000;

/** An upload recorded as `POST /v3/uploads` records it; answers its URL. */
async function uploaded(store: SqliteStore, blobs: LocalBlobStore, key: string): Promise<string> {
  const url = await blobs.url(key, inAnHour());
  await store.uploads.recordUpload({ id: key, keyId: 'k', blobKey: key, contentType: 'image/png', sizeBytes: 1, urlHash: uploadUrlHash(url), createdAt: 0, expiresAt: inAnHour() });
  return url;
}

test('public URLs pass unchanged whatever the server address', async () => {
  const store = new SqliteStore(path.join(tempDir(), 'wan.db'));
  const urls = upstreamMediaUrls(new OwnUploads(store.uploads), storeAt('http://127.0.0.1:8080'));
  assert.equal(await urls('image_url', 'https://cdn.example.com/a.png'), 'https://cdn.example.com/a.png');
  await store.close();
});

test('an upload passes when the server URL is a public name, and fails at once with MEDIA_NOT_REACHABLE when it is private', async () => {
  const store = new SqliteStore(path.join(tempDir(), 'wan.db'));
  const uploads = new OwnUploads(store.uploads);
  const publicStore = storeAt('https://wan.example.com');
  const upload = await uploaded(store, publicStore, 'uploads/0193/a.png');
  assert.equal(await upstreamMediaUrls(uploads, publicStore)('image_url', upload), upload);

  for (const [index, base] of ['http://127.0.0.1:8080', 'http://10.1.2.3', 'http://localhost:8080', 'http://media.internal'].entries()) {
    const blobs = storeAt(base);
    const local = await uploaded(store, blobs, `uploads/${index}/a.png`);
    await assert.rejects(
      upstreamMediaUrls(uploads, blobs)('media[0].url', local),
      (error: ApiError) => error.reason === 'MEDIA_NOT_REACHABLE' && /^media\[0\]\.url: this file was uploaded to this server/.test(error.message),
      base,
    );
  }
  await store.close();
});
