import { S3BlobStore } from '../../src/blobs/s3/s3-blob-store.js';
import { blobStoreConformance } from '../support/blob-store-conformance.js';
import { startLocalBlobServer } from '../support/local-blob-server.js';
import { startS3TestServer } from '../support/s3-test-server.js';

// One contract, two stores: files under a directory served by this server's files route, and
// a bucket of an S3-compatible server (s3rver, on loopback in a process of its own). Both are
// up before the first suite is declared: the file's clean-up runs once the declared tests end.
const local = await startLocalBlobServer();
const s3 = await startS3TestServer();

blobStoreConformance('local disk', local.store);
blobStoreConformance('S3 (s3rver)', new S3BlobStore({ client: s3.client(), bucket: s3.bucket, prefix: 'conformance/' }));
