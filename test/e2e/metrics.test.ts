import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServerProcess } from '../support/server-process.js';
import { Scrape } from '../support/prometheus-scrape.js';
import { tempDir } from '../support/temp-dir.js';

test('wan serve with --metrics-port and WAN_METRICS_TOKEN: the metrics listener it logs and the API port both serve the scrape', async () => {
  const token = 'e2e-metrics-token';
  const server = await startServerProcess(tempDir(), ['--metrics-port', '0'], { WAN_METRICS_TOKEN: token });
  const listening = server.logs.find((entry) => entry.msg === 'wan-api listening')!;
  assert.match(String(listening.metrics), /^http:\/\/127\.0\.0\.1:\d+\/metrics$/, 'the log says where the metrics are');
  for (const url of [String(listening.metrics), `${server.url}/metrics`]) {
    const scrape = await Scrape.of(url, token);
    assert.equal(scrape.value('wan_engine_capacity', { engine: 'preview', scope: 'process' }), 2, url);
    assert.equal(scrape.value('wan_queue_depth'), 0, url);
  }
  assert.equal((await fetch(`${server.url}/metrics`)).status, 401);
  assert.equal(await server.stop(), 0);
});
