import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PresignedUrlCache } from '../../src/blobs/s3/presigned-url-cache.js';
import { longestPresignSeconds, S3BlobStore } from '../../src/blobs/s3/s3-blob-store.js';
import { startS3TestServer } from '../support/s3-test-server.js';

const s3 = await startS3TestServer();
const raw = s3.client();

/** The commands a client runs (sent, or presigned), with their input, in order. */
function recordCommands(client: S3Client): Array<{ command: string; input: Record<string, any> }> {
  const sent: Array<{ command: string; input: Record<string, any> }> = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push({ command: context.commandName ?? '', input: args.input as Record<string, any> });
      return next(args);
    },
    { step: 'initialize', name: 'recordCommands' },
  );
  return sent;
}

async function* megabytes(count: number, failure?: Error): AsyncGenerator<Uint8Array> {
  for (let index = 0; index < count; index++) yield Buffer.alloc(1024 * 1024, index);
  if (failure) throw failure;
}

test('objects live under the prefix with their Content-Type, and their URLs point there', async () => {
  const store = new S3BlobStore({ client: s3.client(), bucket: s3.bucket, prefix: 'tenant-a/' });
  await store.putStream('videos/p1/0.mp4', megabytes(1), 'video/mp4');
  const object = await raw.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: 'tenant-a/videos/p1/0.mp4' }));
  assert.equal(object.ContentType, 'video/mp4');
  assert.equal(object.ContentLength, 1024 * 1024);
  await assert.rejects(raw.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: 'videos/p1/0.mp4' })), { name: 'NotFound' });
  assert.equal(new URL(await store.url('videos/p1/0.mp4', Date.now() + 60_000)).pathname, `/${s3.bucket}/tenant-a/videos/p1/0.mp4`);
  assert.equal(store.urlsReachOutside, true);
});

test('a large stream goes up in parts, a small one in one PUT, and a failed multipart upload is aborted', async () => {
  const client = s3.client();
  const sent = recordCommands(client);
  const store = new S3BlobStore({ client, bucket: s3.bucket, prefix: '' });

  assert.equal(await store.putStream('videos/parts/0.mp4', megabytes(12), 'video/mp4'), 12 * 1024 * 1024);
  assert.deepEqual(
    sent.map((entry) => entry.command),
    ['CreateMultipartUploadCommand', 'UploadPartCommand', 'UploadPartCommand', 'UploadPartCommand', 'CompleteMultipartUploadCommand'],
  );
  assert.equal(sent[0].input.ContentType, 'video/mp4');

  sent.length = 0;
  await store.putStream('videos/parts/1.mp4', megabytes(1), 'video/mp4');
  assert.deepEqual(sent.map((entry) => entry.command), ['PutObjectCommand']);

  sent.length = 0;
  const failure = new Error('the client hung up');
  await assert.rejects(store.putStream('videos/parts/2.mp4', megabytes(12, failure), 'video/mp4'), (error) => error === failure);
  // s3rver does not implement AbortMultipartUpload; what can be seen here is that it was asked.
  assert.equal(sent.at(-1)?.command, 'AbortMultipartUploadCommand');
  assert.equal(sent.some((entry) => entry.command === 'CompleteMultipartUploadCommand'), false);
});

test('delete removes any number of objects in requests of at most 1000 keys', async () => {
  const keys = Array.from({ length: 1001 }, (_, index) => `videos/many/${index}.mp4`);
  // A few of them exist (one in each request); the others count as deleted all the same.
  const stored = [keys[0], keys[999], keys[1000]];
  for (const key of stored) await raw.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `bulk/${key}`, Body: 'x' }));
  const client = s3.client();
  const sent = recordCommands(client);
  await new S3BlobStore({ client, bucket: s3.bucket, prefix: 'bulk/' }).delete(keys);
  assert.deepEqual(
    sent.map((entry) => [entry.command, entry.input.Delete.Objects.length]),
    [['DeleteObjectsCommand', 1000], ['DeleteObjectsCommand', 1]],
  );
  const left = await raw.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: 'bulk/' }));
  assert.equal(left.KeyCount, 0);
});

/** When a presigned URL stops working: its X-Amz-Date plus X-Amz-Expires. */
function expiryOf(url: string): number {
  const query = new URL(url).searchParams;
  const date = query.get('X-Amz-Date')!.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z');
  return Date.parse(date) + Number(query.get('X-Amz-Expires')) * 1000;
}

test('a presigned URL lives until at least the time asked, and serves the polls of the next one to two minutes', async () => {
  let now = Date.now();
  const client = s3.client();
  const sent = recordCommands(client);
  const store = new S3BlobStore({ client, bucket: s3.bucket, prefix: '', clock: () => now });
  const ttl = 3_600_000;

  const first = await store.url('videos/poll/0.mp4', now + ttl);
  assert.ok(expiryOf(first) >= now + ttl + 59_000, 'signed for a minute longer than asked, at least');
  assert.ok(expiryOf(first) <= now + ttl + 121_000, 'and two at most');

  let reused = 0;
  let next = first;
  while (next === first) {
    now += 1000;
    next = await store.url('videos/poll/0.mp4', now + ttl);
    if (next === first) reused++;
  }
  assert.ok(reused >= 59 && reused <= 121, `the polls of one second each got the same URL ${reused} times`);
  assert.ok(expiryOf(next) >= now + ttl, 'signed again once the cached one would not last');
  assert.notEqual(await store.url('videos/poll/1.mp4', now + ttl), next, 'each key has its own URL');

  const longer = await store.url('videos/poll/0.mp4', now + 2 * ttl);
  assert.ok(expiryOf(longer) >= now + 2 * ttl, 'a longer lifetime than the cached URL has is signed anew');
  assert.deepEqual(
    sent.map((entry) => entry.command),
    Array(4).fill('GetObjectCommand'),
    `4 URLs presigned for ${reused + 4} asked`,
  );
});

test('keys first asked together are not all signed again together', async () => {
  const now = Date.now();
  const store = new S3BlobStore({ client: s3.client(), bucket: s3.bucket, prefix: '', clock: () => now });
  const expiries = new Set<number>();
  for (let index = 0; index < 50; index++) expiries.add(expiryOf(await store.url(`videos/burst/${index}.mp4`, now + 3_600_000)));
  assert.ok(expiries.size >= 20, `50 keys signed in one second fall due at ${expiries.size} different seconds`);
});

test('a presigned URL for a time already past is expired, and none outlives the seven days S3 allows', async () => {
  const now = Date.now();
  const store = new S3BlobStore({ client: s3.client(), bucket: s3.bucket, prefix: '', clock: () => now });
  assert.ok(expiryOf(await store.url('videos/old/0.mp4', now - 5000)) <= now - 5000 + 1000);
  const longest = new URL(await store.url('videos/old/1.mp4', now + 8 * 24 * 3_600_000));
  assert.equal(Number(longest.searchParams.get('X-Amz-Expires')), longestPresignSeconds);
});

test('the URL cache answers only URLs that last long enough, and holds a bounded number of keys', () => {
  const cache = new PresignedUrlCache(2);
  cache.set('a', 'url-a', 1000);
  assert.equal(cache.get('a', 1000), 'url-a');
  assert.equal(cache.get('a', 1001), undefined);
  cache.set('b', 'url-b', 1000);
  cache.set('a', 'url-a2', 2000);
  cache.set('c', 'url-c', 1000);
  assert.equal(cache.get('b', 0), undefined, 'the least recently signed key went');
  assert.equal(cache.get('a', 2000), 'url-a2');
  assert.equal(cache.get('c', 1000), 'url-c');
});
