import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { CachedAuthenticator, createApiKey, hashApiKey, keyFromAuthorization } from '../../src/auth/api-keys.js';
import { UrlSigner } from '../../src/blobs/url-signer.js';
import { isValidBlobKey } from '../../src/blobs/blob-key.js';
import { ApiError } from '../../src/spec/api-error.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempDir } from '../support/temp-dir.js';

test('the key is read from "Bearer <key>" and from a bare key', () => {
  assert.equal(keyFromAuthorization('Bearer abc'), 'abc');
  assert.equal(keyFromAuthorization('bearer   abc '), 'abc');
  assert.equal(keyFromAuthorization('abc'), 'abc');
  assert.equal(keyFromAuthorization('Bearer '), undefined);
  assert.equal(keyFromAuthorization(''), undefined);
  assert.equal(keyFromAuthorization(undefined), undefined);
});

test('keys are stored hashed and authenticate until revoked', async () => {
  const store = new SqliteStore(path.join(tempDir(), 'wan.db')).keys;
  const { key, record } = await createApiKey(store, 'ci', 1);
  assert.match(key, /^wan_[A-Za-z0-9_-]{43}$/);
  assert.equal(key.startsWith(record.prefix), true);
  assert.equal((await store.listKeys()).some((listed) => JSON.stringify(listed).includes(key)), false, 'the key itself is never stored');
  assert.equal((await store.findByHash(hashApiKey(key)))?.id, record.id);
  let now = 0;
  const auth = new CachedAuthenticator(store, 2000, 100, () => now);
  assert.equal((await auth.authenticate(`Bearer ${key}`)).id, record.id);
  assert.equal((await auth.authenticate(key)).id, record.id);
  await assert.rejects(auth.authenticate(undefined), (error: ApiError) => error.reason === 'MISSING_API_KEY' && error.status === 400);
  await assert.rejects(auth.authenticate('Bearer nope'), (error: ApiError) => error.reason === 'INVALID_API_KEY' && error.status === 403);
  await store.revokeKey(record.id, 2);
  now = 1999;
  assert.equal((await auth.authenticate(key)).id, record.id, 'trusted from the cache within its lifetime');
  now = 2001;
  await assert.rejects(auth.authenticate(key), (error: ApiError) => error.reason === 'INVALID_API_KEY', 'revoked once the cache expires');
});

test('signed URLs verify, and refuse a tampered key, expiry or signature, and an expired link', () => {
  const signer = new UrlSigner('secret');
  const signature = signer.sign('videos/a/0.mp4', 2000);
  assert.equal(signer.verify('videos/a/0.mp4', 2000, signature, 1_999_000), 'valid');
  assert.equal(signer.verify('videos/a/0.mp4', 2000, signature, 2_001_000), 'expired');
  assert.equal(signer.verify('videos/b/0.mp4', 2000, signature, 1_000), 'invalid');
  assert.equal(signer.verify('videos/a/0.mp4', 3000, signature, 1_000), 'invalid');
  assert.equal(signer.verify('videos/a/0.mp4', 2000, signature.slice(1) + 'A', 1_000), 'invalid');
  assert.equal(signer.verify('videos/a/0.mp4', 2000, 'short', 1_000), 'invalid');
  assert.equal(new UrlSigner('other').verify('videos/a/0.mp4', 2000, signature, 1_000), 'invalid');
});

test('blob keys cannot leave the store', () => {
  assert.equal(isValidBlobKey('videos/0b7c/0.mp4'), true);
  for (const bad of ['../etc/passwd', 'videos/../../x', '/etc/passwd', 'videos//x', 'videos/.hidden', 'a\\b', '', 'videos/%2e%2e/x']) {
    assert.equal(isValidBlobKey(bad), false, bad);
  }
});
