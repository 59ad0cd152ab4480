/**
 * Cost of a result URL, asked on every Task Result poll: the local store's HMAC-signed URL (the
 * baseline) against S3 presigned URLs, signed every time and through the store's per-key cache,
 * in the same run. The cache is measured twice: within one minute (every poll answered from it)
 * and over minutes of simulated polling every 2 s, where each key is signed again every one to
 * two minutes.
 *
 *   node --import tsx bench/blob-urls.ts [--rounds 5] [--seconds 1] [--keys 1000]
 *
 * Nothing goes over the network: presigning is local work. Rounds are interleaved; the median
 * round of each case is reported, as URLs per second and as a ratio to the local baseline.
 */
import path from 'node:path';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { LocalBlobStore } from '../src/blobs/local/local-blob-store.js';
import { createS3Client } from '../src/blobs/s3/s3-client.js';
import { S3BlobStore } from '../src/blobs/s3/s3-blob-store.js';
import { UrlSigner } from '../src/blobs/url-signer.js';
import type { BlobStore } from '../src/spec/blob-store.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, seconds: { type: 'string', default: '1' }, keys: { type: 'string', default: '1000' } },
});
const rounds = Math.max(1, Number(values.rounds));
const roundMs = Number(values.seconds) * 1000;
const keyCount = Number(values.keys);
const ttlMs = 3_600_000;

const s3Client = () =>
  createS3Client({
    region: 'us-east-1',
    endpoint: 'https://s3.example.com',
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'bench-secret' },
  });
const local = new LocalBlobStore(path.join(tmpdir(), 'wan-bench-blobs'), new UrlSigner('bench-secret'), () => 'https://wan.example.com');
const cached = new S3BlobStore({ client: s3Client(), bucket: 'wan-results', prefix: 'wan/' });
const signedEveryTime = new S3BlobStore({ client: s3Client(), bucket: 'wan-results', prefix: 'wan/' });
// Time as the polling clients see it: each request moves it on so that every key is asked for
// once every 2 s of it, however fast the requests really go.
const pollIntervalMs = 2000;
let simulatedNow = Date.now();
const polledEvery2s = new S3BlobStore({ client: s3Client(), bucket: 'wan-results', prefix: 'wan/', clock: () => simulatedNow });

const pollKeys = Array.from({ length: keyCount }, (_, index) => `videos/0193c0de-${String(index).padStart(4, '0')}-7000-8000-000000000000/0.mp4`);
let freshKey = 0;

interface Case {
  name: string;
  store: BlobStore;
  /** The key of the n-th request. */
  key: (n: number) => string;
  now?: () => number;
}

const cases: Case[] = [
  { name: 'local HMAC URL (baseline)', store: local, key: (n) => pollKeys[n % keyCount] },
  // A key never asked before, so the cache never answers: the price of presigning itself.
  { name: 'S3 presigned, signed every time', store: signedEveryTime, key: () => `videos/fresh-${freshKey++}/0.mp4` },
  // The polling pattern: the same keys again and again, each asking for now + TTL.
  { name: 'S3 presigned, per-key cache, within a minute', store: cached, key: (n) => pollKeys[n % keyCount] },
  {
    name: 'S3 presigned, per-key cache, polls every 2 s',
    store: polledEvery2s,
    key: (n) => {
      simulatedNow += pollIntervalMs / keyCount;
      return pollKeys[n % keyCount];
    },
    now: () => simulatedNow,
  },
];

async function round(entry: Case): Promise<number> {
  const started = performance.now();
  let done = 0;
  while (performance.now() - started < roundMs) {
    // Batches of 100 keep the clock reads out of the measured cost.
    for (let index = 0; index < 100; index++, done++) {
      const key = entry.key(done);
      await entry.store.url(key, (entry.now ?? Date.now)() + ttlMs);
    }
  }
  return done / ((performance.now() - started) / 1000);
}

const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)];

const started = simulatedNow;
for (const entry of cases) await round(entry); // warm-up: JIT, the SDK's lazy set-up, the cache
const results = new Map<string, number[]>(cases.map((entry) => [entry.name, []]));
for (let index = 0; index < rounds; index++) {
  for (const entry of cases) results.get(entry.name)!.push(await round(entry));
}

const baseline = median(results.get(cases[0].name)!);
console.log(`Node ${process.version}, ${rounds} rounds of ${roundMs / 1000} s, ${keyCount} keys polled, TTL ${ttlMs / 1000} s\n`);
console.log('| URL | URLs/s (median) | µs per URL | ratio to local |');
console.log('| --- | ---: | ---: | ---: |');
for (const entry of cases) {
  const perSecond = median(results.get(entry.name)!);
  const ratio = perSecond / baseline;
  console.log(`| ${entry.name} | ${Math.round(perSecond).toLocaleString('en-US')} | ${(1e6 / perSecond).toFixed(1)} | ${ratio >= 0.1 ? ratio.toFixed(2) : ratio.toPrecision(2)}× |`);
}
const signed = median(results.get(cases[1].name)!);
for (const entry of cases.slice(2)) {
  console.log(`\n${entry.name}: ${(median(results.get(entry.name)!) / signed).toFixed(1)}× the URLs per second of signing every time`);
}
console.log(`(the simulated polling covered ${((simulatedNow - started) / 60_000).toFixed(1)} minutes of polling)`);
