import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import type { BlobStore } from '../../src/spec/blob-store.js';
import { tempDir } from './temp-dir.js';

/**
 * Every rule of the blob-store contract (src/spec/blob-store.ts) as tests, run the same against
 * each store. Keys are fresh in every test, so the tests share one store (one bucket) without
 * seeing each other's blobs.
 */
export function blobStoreConformance(name: string, store: BlobStore): void {
  describe(`${name}: blob-store contract`, () => {
    const fresh = (name: string) => `videos/${randomUUID()}/${name}`;

    test('putFile and putStream store the bytes with their type, answer the size, and a new put replaces the blob', async () => {
      const fileBytes = randomBytes(300_000);
      const file = path.join(tempDir(), 'result.mp4');
      await writeFile(file, fileBytes);
      const videoKey = fresh('0.mp4');
      await store.putFile(videoKey, file, 'video/mp4');
      assert.deepEqual(await store.head(videoKey), { size: fileBytes.length, contentType: 'video/mp4' });
      assert.deepEqual(await readAll(store, videoKey), fileBytes);

      const streamBytes = randomBytes(70_000);
      const imageKey = fresh('a.png');
      assert.equal(await store.putStream(imageKey, chunksOf(streamBytes, 16_384), 'image/png'), streamBytes.length);
      assert.deepEqual(await store.head(imageKey), { size: streamBytes.length, contentType: 'image/png' });
      const opened = await store.open(imageKey);
      assert.equal(opened?.size, streamBytes.length);
      assert.equal(opened?.contentType, 'image/png');
      assert.deepEqual(await collect(opened!.stream), streamBytes);

      const replacement = randomBytes(1000);
      assert.equal(await store.putStream(imageKey, chunksOf(replacement, 300), 'image/png'), replacement.length);
      assert.deepEqual(await readAll(store, imageKey), replacement);
    });

    test('an empty stream stores an empty blob', async () => {
      const key = fresh('empty.mp4');
      assert.equal(await store.putStream(key, chunksOf(Buffer.alloc(0), 1), 'video/mp4'), 0);
      assert.deepEqual(await store.head(key), { size: 0, contentType: 'video/mp4' });
    });

    test('a range reads only its bytes, both ends inclusive, while size stays that of the whole blob', async () => {
      const bytes = randomBytes(1000);
      const key = fresh('0.mp4');
      await store.putStream(key, chunksOf(bytes, 256), 'video/mp4');
      const cases: Array<[{ start: number; end?: number }, Buffer]> = [
        [{ start: 10, end: 19 }, bytes.subarray(10, 20)],
        [{ start: 500, end: 500 }, bytes.subarray(500, 501)],
        [{ start: 990 }, bytes.subarray(990)],
        [{ start: 995, end: 5000 }, bytes.subarray(995)],
      ];
      for (const [range, expected] of cases) {
        const part = await store.open(key, range);
        assert.equal(part?.size, 1000, JSON.stringify(range));
        assert.equal(part?.contentType, 'video/mp4');
        assert.deepEqual(await collect(part!.stream), expected, JSON.stringify(range));
      }
    });

    test('head and open answer undefined for a blob that does not exist', async () => {
      assert.equal(await store.head(fresh('none.mp4')), undefined);
      assert.equal(await store.open(fresh('none.mp4')), undefined);
      assert.equal(await store.open(fresh('none.mp4'), { start: 0, end: 9 }), undefined);
    });

    test('delete removes the blobs listed and only them; a key that does not exist is no error', async () => {
      const [first, second] = [fresh('0.mp4'), fresh('1.mp4')];
      const neighbour = `${path.posix.dirname(first)}/2.mp4`;
      for (const key of [first, second, neighbour]) await store.putStream(key, chunksOf(randomBytes(100), 100), 'video/mp4');
      await store.delete([first, fresh('never-stored.mp4'), second]);
      assert.equal(await store.head(first), undefined);
      assert.equal(await store.head(second), undefined);
      assert.equal((await store.head(neighbour))?.size, 100, 'a blob of the same folder stays');
      await store.delete([first]);
      await store.delete([]);
    });

    test('a failing stream stores nothing, whenever it fails, and its own error is the one thrown', async () => {
      // 20 MiB is past the size at which object stores switch to multipart uploads.
      for (const failAfter of [0, 100_000, 20 * 1024 * 1024]) {
        const key = fresh('upload.mp4');
        const failure = new Error(`the client hung up after ${failAfter} bytes`);
        await assert.rejects(store.putStream(key, streamOf(failAfter, failure), 'video/mp4'), (error) => error === failure);
        assert.equal(await store.head(key), undefined, `after ${failAfter} bytes`);
      }
      const existing = fresh('0.mp4');
      const kept = randomBytes(500);
      await store.putStream(existing, chunksOf(kept, 500), 'video/mp4');
      await assert.rejects(store.putStream(existing, streamOf(100_000, new Error('cut')), 'video/mp4'), /cut/);
      assert.deepEqual(await readAll(store, existing), kept, 'a blob already under the key stays as it was');
    });

    test('a URL answers the bytes and the type to a plain fetch, and serves byte ranges', async () => {
      const bytes = randomBytes(50_000);
      const key = fresh('0.mp4');
      await store.putStream(key, chunksOf(bytes, 8192), 'video/mp4');
      const url = await store.url(key, Date.now() + 60_000);
      const whole = await fetch(url);
      assert.equal(whole.status, 200, await peek(whole));
      assert.equal(whole.headers.get('content-type'), 'video/mp4');
      assert.deepEqual(Buffer.from(await whole.arrayBuffer()), bytes);
      const part = await fetch(url, { headers: { range: 'bytes=100-199' } });
      assert.equal(part.status, 206);
      assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes.subarray(100, 200));
    });

    test('a URL whose time has passed is refused', async () => {
      const key = fresh('0.mp4');
      const bytes = randomBytes(100);
      await store.putStream(key, chunksOf(bytes, 100), 'video/mp4');
      const response = await fetch(await store.url(key, Date.now() - 120_000));
      assert.equal(response.status, 403);
      assert.notDeepEqual(Buffer.from(await response.arrayBuffer()), bytes);
    });

    test('keys with subfolders are stored, served, read and deleted like any other', async () => {
      const folder = `uploads/${randomUUID()}/a/b/c`;
      const [key, sibling] = [`${folder}/clip.mp4`, `${folder}/still.png`];
      const bytes = randomBytes(2000);
      await store.putStream(key, chunksOf(bytes, 700), 'video/mp4');
      await store.putStream(sibling, chunksOf(randomBytes(10), 10), 'image/png');
      assert.deepEqual(await store.head(key), { size: 2000, contentType: 'video/mp4' });
      assert.deepEqual(await readAll(store, key), bytes);
      const response = await fetch(await store.url(key, Date.now() + 60_000));
      assert.deepEqual(Buffer.from(await response.arrayBuffer()), bytes);
      await store.delete([key]);
      assert.equal(await store.head(key), undefined);
      assert.deepEqual(await store.head(sibling), { size: 10, contentType: 'image/png' });
    });

    test('a key that is not a safe relative path is refused by every operation', async () => {
      const file = path.join(tempDir(), 'x.mp4');
      await writeFile(file, 'x');
      for (const bad of ['../escape.mp4', 'videos/../../escape.mp4', '/etc/passwd', 'videos//x.mp4', 'videos/.hidden', 'a b.mp4']) {
        await assert.rejects(store.putStream(bad, chunksOf(Buffer.from('x'), 1), 'video/mp4'), /invalid blob key/, bad);
        await assert.rejects(store.putFile(bad, file, 'video/mp4'), /invalid blob key/, bad);
        await assert.rejects(store.url(bad, Date.now() + 60_000), /invalid blob key/, bad);
        await assert.rejects(store.head(bad), /invalid blob key/, bad);
        await assert.rejects(store.open(bad), /invalid blob key/, bad);
        await assert.rejects(store.delete([bad]), /invalid blob key/, bad);
      }
    });

    test('a 100 MB stream is stored and read back without being held in memory', async (t) => {
      const size = 100 * 1024 * 1024;
      const key = fresh('large.mp4');
      // Warm up first, so that what loads lazily on a first upload is not counted.
      await store.putStream(fresh('warm-up.mp4'), streamOf(12 * 1024 * 1024), 'video/mp4');
      const memory = peakRss();
      const written = createHash('sha256');
      assert.equal(await store.putStream(key, patternStream(size, written), 'video/mp4'), size);
      const read = createHash('sha256');
      const blob = await store.open(key);
      assert.equal(blob?.size, size);
      for await (const chunk of blob!.stream) read.update(chunk as Buffer);
      const growth = memory.stop();
      t.diagnostic(`resident memory grew by ${(growth / 1048576).toFixed(1)} MB`);
      assert.equal(read.digest('hex'), written.digest('hex'), 'the bytes read back are the bytes written');
      // Holding the stream would take 100 MB and more; streaming holds a few parts of it, plus
      // the garbage the collector has not reclaimed yet (up to ~45 MB seen).
      assert.ok(growth < 80 * 1024 * 1024, `the process grew by ${(growth / 1048576).toFixed(1)} MB while storing and reading 100 MB`);
    });
  });
}

async function readAll(store: BlobStore, key: string): Promise<Buffer> {
  const blob = await store.open(key);
  assert.ok(blob, `${key} exists`);
  return collect(blob.stream);
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function peek(response: Response): Promise<string> {
  return response.ok ? '' : (await response.clone().text()).slice(0, 300);
}

async function* chunksOf(bytes: Buffer, chunkSize: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += chunkSize) yield bytes.subarray(offset, offset + chunkSize);
}

/** `bytes` bytes of a pattern, then `failure` thrown (without one, the stream just ends). */
async function* streamOf(bytes: number, failure?: Error): AsyncGenerator<Uint8Array> {
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  for (let sent = 0; sent < bytes; sent += chunk.length) yield chunk.subarray(0, Math.min(chunk.length, bytes - sent));
  if (failure) throw failure;
}

/** `size` bytes made on the fly, each 256 KiB chunk distinct, hashed as they go out. */
async function* patternStream(size: number, hash: ReturnType<typeof createHash>): AsyncGenerator<Uint8Array> {
  const base = randomBytes(256 * 1024);
  for (let offset = 0, index = 0; offset < size; offset += base.length, index++) {
    const chunk = Buffer.from(base.subarray(0, Math.min(base.length, size - offset)));
    chunk.writeUInt32BE(index, 0);
    hash.update(chunk);
    yield chunk;
  }
}

/** Samples the resident set size until stopped; answers how far it rose above where it started. */
function peakRss(): { stop(): number } {
  const start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss()) - start;
    },
  };
}
