import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../../src/blobs/s3/s3-client.js';
import { tempDir } from './temp-dir.js';

/** The one account s3rver knows; it checks the key id of every request, not the signature. */
export const s3rverCredentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface S3TestServer {
  endpoint: string;
  bucket: string;
  /** A client of the server with s3rver's credentials, as the store is given. */
  client(): S3Client;
}

/**
 * Starts s3rver on 127.0.0.1 (a free port, a fresh directory) in a child process, stopped when
 * the test file ends. A process of its own keeps the server's memory out of the measurements
 * of the process under test, as a real S3 service would be.
 */
export async function startS3TestServer(bucket = 'wan-test'): Promise<S3TestServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 's3rver-main.ts'), tempDir('wan-s3rver-'), bucket], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  after(() => {
    child.stdin.end();
    return new Promise<void>((resolve) => (child.exitCode === null ? child.once('exit', () => resolve()) : resolve()));
  });
  const firstLine = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`s3rver exited with code ${code} before listening`)));
  });
  const endpoint = `http://127.0.0.1:${(JSON.parse(firstLine) as { port: number }).port}`;
  return {
    endpoint,
    bucket,
    client: () => createS3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3rverCredentials }),
  };
}
