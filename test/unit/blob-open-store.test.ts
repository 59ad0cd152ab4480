import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { LocalBlobStore } from '../../src/blobs/local/local-blob-store.js';
import { openBlobStore } from '../../src/blobs/open-blob-store.js';
import { S3BlobStore } from '../../src/blobs/s3/s3-blob-store.js';
import { UrlSigner } from '../../src/blobs/url-signer.js';
import { type ConfigKey, ConfigError, loadConfig } from '../../src/config.js';
import { s3rverCredentials, startS3TestServer } from '../support/s3-test-server.js';
import { tempDir } from '../support/temp-dir.js';

// The SDK's default credential and region chain reads this process's environment and the AWS
// files; each test sets exactly what it means to give. Instance metadata is off: tests talk
// only to loopback.
const noFile = path.join(tempDir(), 'none');
for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
Object.assign(process.env, { AWS_CONFIG_FILE: noFile, AWS_SHARED_CREDENTIALS_FILE: noFile, AWS_EC2_METADATA_DISABLED: 'true' });

function environment(variables: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(variables)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}

const s3 = await startS3TestServer('wan-results');
const keysOfS3rver = { AWS_ACCESS_KEY_ID: s3rverCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3rverCredentials.secretAccessKey };

function open(flags: Partial<Record<ConfigKey, string>>) {
  const dataDir = tempDir();
  const config = loadConfig({ flags: { data_dir: dataDir, ...flags } });
  return { dataDir, opened: openBlobStore(config, { dataDir, signer: new UrlSigner('s'), baseUrl: () => 'http://127.0.0.1:8080' }) };
}

const bucketFlags = { s3_bucket: 'wan-results', s3_endpoint: s3.endpoint, s3_force_path_style: 'true' };

test('without s3_bucket, blobs are files under the data directory', async () => {
  const { dataDir, opened } = open({});
  const store = await opened;
  assert.equal(store instanceof LocalBlobStore, true);
  await store.putStream('videos/t/0.mp4', Readable.from([Buffer.from('x')]), 'video/mp4');
  assert.ok(existsSync(path.join(dataDir, 'blobs', 'videos', 't', '0.mp4')));
});

test('S3 settings without s3_bucket are refused rather than ignored', async () => {
  await assert.rejects(open({ s3_endpoint: s3.endpoint, s3_prefix: 'wan' }).opened, (error) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.message, 's3_endpoint, s3_prefix are set but s3_bucket is not: set s3_bucket to keep files in S3, or remove them');
    return true;
  });
  await assert.rejects(open({ s3_force_path_style: 'true' }).opened, /s3_force_path_style is set but s3_bucket is not/);
});

test('with s3_bucket, blobs go to the bucket under s3_prefix, with credentials from the environment', async () => {
  environment({ ...keysOfS3rver, AWS_REGION: undefined });
  const store = await open({ ...bucketFlags, s3_prefix: '/wan/' }).opened;
  assert.equal(store instanceof S3BlobStore, true);
  await store.putStream('videos/t/0.mp4', Readable.from([Buffer.from('x')]), 'video/mp4');
  const object = await s3.client().send(new HeadObjectCommand({ Bucket: 'wan-results', Key: 'wan/videos/t/0.mp4' }));
  assert.equal(object.ContentType, 'video/mp4');
  const url = await store.url('videos/t/0.mp4', Date.now() + 60_000);
  assert.match(new URL(url).searchParams.get('X-Amz-Credential')!, /^S3RVER\/\d{8}\/us-east-1\/s3\/aws4_request$/, 'us-east-1 when nothing names a region');
  assert.equal(await (await fetch(url)).text(), 'x');
  assert.equal(store.urlsReachOutside, false, 'a service on loopback is not reachable from the internet');
});

test("the region is s3_region, else the SDK's (AWS_REGION)", async () => {
  environment({ ...keysOfS3rver, AWS_REGION: 'eu-west-3' });
  const fromSdk = await open(bucketFlags).opened;
  assert.match(await fromSdk.url('videos/t/0.mp4', Date.now() + 60_000), /%2Feu-west-3%2Fs3%2F/);
  const named = await open({ ...bucketFlags, s3_region: 'ap-southeast-1' }).opened;
  assert.match(await named.url('videos/t/0.mp4', Date.now() + 60_000), /%2Fap-southeast-1%2Fs3%2F/);
  environment({ AWS_REGION: undefined });
});

test('a wrong S3 set-up stops the start with a message that says what to fix', async () => {
  const closedPort = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
  // What S3 answers for a bucket of another region: 301 and the bucket's region in a header.
  const otherRegion = createHttpServer((_request, response) => response.writeHead(301, { 'x-amz-bucket-region': 'eu-central-1' }).end());
  await new Promise<void>((resolve) => otherRegion.listen(0, '127.0.0.1', resolve));
  after(() => new Promise<void>((resolve) => otherRegion.close(() => resolve())));
  const otherRegionEndpoint = `http://127.0.0.1:${(otherRegion.address() as AddressInfo).port}`;
  const cases: Array<[string, Record<string, string | undefined>, Partial<Record<ConfigKey, string>>, RegExp]> = [
    ['missing bucket', keysOfS3rver, { ...bucketFlags, s3_bucket: 'no-such-bucket' }, /^the S3 bucket "no-such-bucket" does not exist at http:\/\/127\.0\.0\.1:\d+: create it/],
    ['unknown key', { ...keysOfS3rver, AWS_ACCESS_KEY_ID: 'AKIAWRONG' }, bucketFlags, /^the S3 bucket "wan-results" at http:\/\/127\.0\.0\.1:\d+ refused these credentials \(HTTP 403\): check AWS_ACCESS_KEY_ID/],
    ['no credentials', { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined }, bucketFlags, /^no AWS credentials were found for the S3 bucket "wan-results": set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE/],
    ['unreachable endpoint', keysOfS3rver, { ...bucketFlags, s3_endpoint: `http://127.0.0.1:${closedPort}` }, /^cannot reach S3 at http:\/\/127\.0\.0\.1:\d+ for the S3 bucket "wan-results": ECONNREFUSED/],
    ['bucket in another region', keysOfS3rver, { ...bucketFlags, s3_endpoint: otherRegionEndpoint, s3_region: 'us-west-2' }, /^the S3 bucket "wan-results" is in region eu-central-1, not us-west-2: set s3_region$/],
    ['endpoint not a URL', keysOfS3rver, { ...bucketFlags, s3_endpoint: 's3.example.com' }, /^s3_endpoint is "s3\.example\.com": use a URL such as https:\/\/s3\.example\.com/],
    ['URL lifetime S3 cannot sign', keysOfS3rver, { ...bucketFlags, upload_url_ttl_seconds: '2592000' }, /^upload_url_ttl_seconds is 2592000, but S3 presigned URLs live at most 604800 seconds \(7 days\): lower it$/],
  ];
  for (const [name, variables, flags, message] of cases) {
    environment(variables);
    await assert.rejects(open(flags).opened, (error) => {
      assert.ok(error instanceof ConfigError, name);
      assert.match(error.message, message, name);
      return true;
    });
  }
});
