import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after } from 'node:test';
import Fastify from 'fastify';
import { LocalBlobStore } from '../../src/blobs/local/local-blob-store.js';
import { UrlSigner } from '../../src/blobs/url-signer.js';
import type { BlobStore } from '../../src/spec/blob-store.js';
import { installErrorHandler } from '../../src/http/error-handler.js';
import { fileRoutes } from '../../src/http/routes/files.js';
import { tempDir } from './temp-dir.js';

/**
 * A LocalBlobStore in a fresh directory whose URLs work: the server's own files route listens
 * on a free loopback port until the test file ends.
 */
export async function startLocalBlobServer(): Promise<{ store: BlobStore; signer: UrlSigner; root: string; baseUrl: string }> {
  const signer = new UrlSigner(`test-${process.pid}`);
  const root = path.join(tempDir('wan-blobs-'), 'blobs');
  let baseUrl = '';
  const store = new LocalBlobStore(root, signer, () => baseUrl);
  const app = Fastify();
  installErrorHandler(app, 1024 * 1024);
  fileRoutes(app, store, signer, Date.now);
  await app.listen({ host: '127.0.0.1', port: 0 });
  after(() => app.close());
  baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return { store, signer, root, baseUrl };
}
