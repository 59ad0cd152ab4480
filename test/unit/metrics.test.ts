import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { UpstreamConnectionError, UpstreamHttp } from '../../src/engines/upstream/upstream-http.js';
import { HotHistogram } from '../../src/metrics/hot-histogram.js';
import { registerQueueMetrics, queueCountCap } from '../../src/metrics/queue-metrics.js';
import { StoreMetrics } from '../../src/metrics/store-metrics.js';
import { UpstreamMetrics } from '../../src/metrics/upstream-metrics.js';
import type { Store } from '../../src/spec/store.js';
import { Scrape } from '../support/prometheus-scrape.js';

/** A store part with state of its own, like the real ones: methods must keep their `this`. */
class CountingPart {
  private readonly calls: string[] = [];
  async find(id: string): Promise<string> {
    this.calls.push(id);
    return `found ${id}`;
  }
  async broken(): Promise<never> {
    throw new Error('database went away');
  }
  count(): number {
    return this.calls.length;
  }
}

test('the timed store answers what the store answers, fails as it fails, and times each call under part.method', async () => {
  const registry = new Registry();
  const part = new CountingPart();
  const store = { tasks: part, keys: new CountingPart(), webhooks: new CountingPart(), uploads: new CountingPart(), usage: new CountingPart(), retention: new CountingPart(), ping: async () => 'pong' };
  const timed = new StoreMetrics(registry).timed(store as unknown as Store) as unknown as typeof store;
  assert.equal(await timed.tasks.find('a'), 'found a');
  assert.equal(await timed.tasks.find('b'), 'found b');
  await assert.rejects(timed.tasks.broken(), /database went away/);
  assert.equal(timed.tasks.count(), 2, 'the calls reached the part itself');
  assert.equal(await timed.ping(), 'pong', "the store's own methods stay");
  const scrape = new Scrape(await registry.metrics());
  assert.equal(scrape.count('wan_store_operation_seconds', { operation: 'tasks.find' }), 2);
  assert.equal(scrape.count('wan_store_operation_seconds', { operation: 'tasks.broken' }), 1, 'a failed call is timed too');
  assert.equal(scrape.count('wan_store_operation_seconds', { operation: 'tasks.count' }), 1);
  assert.equal(scrape.count('wan_store_operation_seconds', { operation: 'keys.find' }), 0, 'no series for what was never called');
});

test('the queue gauges of one scrape share one capped store query; while the store fails they read NaN', async () => {
  const registry = new Registry();
  const asked: number[] = [];
  let failing = false;
  const now = 1_000_000;
  registerQueueMetrics(
    registry,
    {
      async queueStats(countUpTo) {
        asked.push(countUpTo);
        if (failing) throw new Error('unreachable');
        return { queued: 7, oldestCreatedAt: now - 2500 };
      },
    },
    () => now,
  );
  const first = new Scrape(await registry.metrics());
  assert.equal(first.value('wan_queue_depth'), 7);
  assert.equal(first.value('wan_queue_oldest_age_seconds'), 2.5);
  assert.deepEqual(asked, [queueCountCap], 'one query for both gauges');
  await registry.metrics();
  assert.equal(asked.length, 2, 'the next scrape asks again');
  failing = true;
  const down = new Scrape(await registry.metrics());
  assert.ok(Number.isNaN(down.value('wan_queue_depth')), 'unknown, not an empty queue');
  assert.ok(Number.isNaN(down.value('wan_queue_oldest_age_seconds')));
});

test('requests to an upstream are timed by engine and status; one that gets no answer counts as none', async () => {
  const registry = new Registry();
  const upstream = createServer((request, response) => {
    response.writeHead(request.url === '/fail' ? 503 : 200, { 'content-type': 'application/json' }).end('{}');
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  after(() => upstream.close());
  const { port } = upstream.address() as AddressInfo;
  const options = { timeoutMs: 2000, maxConcurrentRequests: 4, describeError: () => ({}), observer: new UpstreamMetrics(registry) };
  const http = new UpstreamHttp({ ...options, engine: 'cloud-a', baseUrl: `http://127.0.0.1:${port}` });
  assert.equal((await http.send('GET', '/ok')).status, 200);
  assert.equal((await http.send('GET', '/ok')).status, 200);
  assert.equal((await http.send('POST', '/fail', {})).status, 503);
  // Port 1: nothing listens there.
  const gone = new UpstreamHttp({ ...options, engine: 'cloud-b', baseUrl: 'http://127.0.0.1:1' });
  await assert.rejects(gone.send('GET', '/ok'), UpstreamConnectionError);
  const scrape = new Scrape(await registry.metrics());
  assert.equal(scrape.count('wan_upstream_request_seconds', { engine: 'cloud-a', status_code: '200' }), 2);
  assert.equal(scrape.count('wan_upstream_request_seconds', { engine: 'cloud-a', status_code: '503' }), 1);
  assert.equal(scrape.count('wan_upstream_request_seconds', { engine: 'cloud-b', status_code: 'none' }), 1);
});

test("a hot histogram's exposition reads as prom-client's own histogram of the same observations", async () => {
  const seed = Date.now();
  console.log(`seed ${seed}`);
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2;
  const options = { help: 'h', labelNames: ['route', 'status_code'] as const, buckets: [0.001, 0.01, 0.1, 1] };
  const ours = new Registry();
  const theirs = new Registry();
  const hot = new HotHistogram({ ...options, name: 'requests', registry: ours });
  const library = new Histogram({ ...options, labelNames: [...options.labelNames], name: 'requests', registers: [theirs] });
  for (let index = 0; index < 500; index++) {
    const labels = [index % 3 === 0 ? '/a' : '/b "quoted"', index % 5 === 0 ? '500' : '200'] as const;
    // Values on the bounds too: a bucket holds what is less than or equal to its bound.
    const value = index % 7 === 0 ? options.buckets[index % 4] : random();
    hot.of(...labels).observe(value);
    library.labels(...labels).observe(value);
  }
  const mine = new Scrape(await ours.metrics());
  const reference = new Scrape(await theirs.metrics());
  assert.equal(mine.family('requests').type, 'HISTOGRAM');
  for (const series of ['requests_bucket', 'requests_sum', 'requests_count']) {
    const key = (sample: { labels?: Record<string, string> }) => JSON.stringify(Object.entries(sample.labels ?? {}).sort());
    const read = (scrape: Scrape) =>
      Object.fromEntries(scrape.family(series).metrics.map((sample) => [key(sample), Number(Number(sample.value).toPrecision(12))]));
    assert.deepEqual(read(mine), read(reference), `${series}, seed ${seed}`);
  }
});
