/**
 * Webhooks under load, against the built server as users run it (`npm run bench:webhooks`):
 *
 * 1. Deliveries per second: N test-mode tasks are stored while the server makes no deliveries
 *    (`--webhook-concurrency 0`); a server with the default concurrency then starts on the same
 *    data, and the time until a local receiver has all N signed events is measured. Baseline, in
 *    the same run: the same number of POSTs of the same size, at the same concurrency, with a new
 *    connection each (as the deliverer makes them), sent by a bare Node loop.
 * 2. The API's submit and poll throughput with 1,000 deliveries pending (a receiver that answers
 *    503 after 1 s, retried every second, so the deliverer is busy throughout) against the same
 *    server with none.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { listening, percentile, root, serverArgs, startProcess, stop } from './processes.js';

const deliveries = Number(process.env.BENCH_DELIVERIES ?? 2000);
const pending = 1000;
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const concurrency = 16;
const allowLoopback = ['--media-allow-ranges', '127.0.0.1/32'];

/** A receiver on loopback: answers `status` after `delayMs`, counts what it got. */
async function receiver(status: number, delayMs = 0) {
  let received = 0;
  let bytes = 0;
  const server = http.createServer((request, response) => {
    request.on('data', (chunk: Buffer) => (bytes += chunk.length));
    request.on('end', () => {
      received++;
      setTimeout(() => response.writeHead(status).end(), delayMs);
    });
  });
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received: () => received,
    bytes: () => bytes,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function newDataDir(): { dataDir: string; key: string } {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'wan-bench-'));
  const key = execFileSync(process.execPath, ['dist/cli/main.js', 'keys', 'create', '--data-dir', dataDir], { cwd: root }).toString().trim();
  return { dataDir, key };
}

async function submitTestModeTasks(api: string, key: string, url: string, count: number): Promise<void> {
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const body = JSON.stringify({ prompt: 'a webhook bench', size: '1280*720', duration: 5, extra: { webhook: { url, test_mode: { enabled: true } } } });
  for (let sent = 0; sent < count; sent += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, count - sent) }, async () => {
        const response = await fetch(`${api}/v3/async/wan2.7-t2v`, { method: 'POST', headers, body });
        if (response.status !== 200) throw new Error(`submit answered ${response.status}: ${await response.text()}`);
      }),
    );
  }
}

async function deliveryRate(): Promise<{ server: number; bare: number; bytesPerEvent: number }> {
  const sink = await receiver(204);
  const { dataDir, key } = newDataDir();
  try {
    const filling = await startProcess(serverArgs(dataDir, [...allowLoopback, '--worker-concurrency', '0', '--webhook-concurrency', '0']), listening);
    await submitTestModeTasks(filling.value, key, sink.url, deliveries);
    await stop(filling.child);
    const started = Date.now();
    const delivering = await startProcess(serverArgs(dataDir, [...allowLoopback, '--worker-concurrency', '0']), listening);
    while (sink.received() < deliveries) await sleep(5);
    const elapsed = (Date.now() - started) / 1000;
    await stop(delivering.child);
    const bytesPerEvent = Math.round(sink.bytes() / deliveries);

    // The baseline: the same POSTs from a bare loop, same concurrency, a new connection each.
    const body = 'x'.repeat(bytesPerEvent);
    const bareStarted = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < deliveries) {
          await new Promise<void>((resolve, reject) => {
            const request = http.request(sink.url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (response) => {
              response.resume();
              response.on('end', resolve);
            });
            request.on('error', reject);
            request.end(body);
          });
        }
      }),
    );
    const bareElapsed = (Date.now() - bareStarted) / 1000;
    // The server's figure includes its start-up (the same for every run): reported as measured.
    return { server: deliveries / elapsed, bare: deliveries / bareElapsed, bytesPerEvent };
  } finally {
    await sink.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface Load {
  submit: number;
  poll: number;
  submitP99: number;
  pollP99: number;
}

async function apiLoad(withPending: boolean): Promise<Load[]> {
  const slow = await receiver(503, 1000);
  const { dataDir, key } = newDataDir();
  // Retried every second, 60 times: the deliveries stay pending for the whole measurement.
  const schedule = Array.from({ length: 60 }, () => '1').join(',');
  const api = await startProcess(serverArgs(dataDir, [...allowLoopback, '--worker-concurrency', '0', '--webhook-retry-seconds', schedule]), listening);
  try {
    if (withPending) {
      await submitTestModeTasks(api.value, key, slow.url, pending);
      while (slow.received() < concurrency) await sleep(10);
    }
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const submitBody = JSON.stringify({ prompt: 'a paper boat drifting down a rainy street', size: '1280*720', duration: 5, seed: 7 });
    const taskId = (await (await fetch(`${api.value}/v3/async/wan2.7-t2v`, { method: 'POST', headers, body: submitBody })).json()).task_id;
    const submit = { url: `${api.value}/v3/async/wan2.7-t2v`, method: 'POST' as const, headers, body: submitBody };
    const poll = { url: `${api.value}/v3/async/task-result?task_id=${taskId}`, headers };
    await autocannon({ connections: 32, duration: 2, ...submit });
    await autocannon({ connections: 32, duration: 2, ...poll });
    const results: Load[] = [];
    for (let round = 0; round < rounds; round++) {
      const submitted = await autocannon({ connections: 32, duration: seconds, ...submit });
      const polled = await autocannon({ connections: 32, duration: seconds, ...poll });
      if (submitted.errors + submitted.non2xx + polled.errors + polled.non2xx > 0) throw new Error('the API answered errors under load');
      results.push({ submit: submitted.requests.average, poll: polled.requests.average, submitP99: submitted.latency.p99, pollP99: polled.latency.p99 });
    }
    if (withPending) {
      const state = await (await fetch(`${api.value}/v3/async/tasks?limit=1`, { headers })).json();
      if (!Array.isArray(state.tasks)) throw new Error('cannot read the task list');
    }
    return results;
  } finally {
    await stop(api.child);
    await slow.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const rate = await deliveryRate();
const without: Load[] = [];
const withDeliveries: Load[] = [];
// Alternated, so that drift of the machine hits both sides alike.
for (let pass = 0; pass < 2; pass++) {
  without.push(...(await apiLoad(false)));
  withDeliveries.push(...(await apiLoad(true)));
}
const median = (values: number[]) => percentile(values, 0.5);

console.log(`\nwebhook deliveries, ${deliveries} test-mode events to a loopback receiver answering 204 (${process.version})\n`);
console.log('| sender | events/s | bytes per event |');
console.log('| --- | ---: | ---: |');
console.log(`| server (concurrency ${concurrency}, start-up included) | ${Math.round(rate.server)} | ${rate.bytesPerEvent} |`);
console.log(`| bare Node loop (same concurrency, new connection each) | ${Math.round(rate.bare)} | ${rate.bytesPerEvent} |`);
console.log(`\nserver / bare loop: ${((100 * rate.server) / rate.bare).toFixed(0)}%`);
console.log(`\nAPI throughput, median of ${without.length} ${seconds} s runs at 32 connections, with and without ${pending} pending deliveries\n`);
console.log('| | submit req/s | submit p99 ms | poll req/s | poll p99 ms |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const [name, runs] of [['no deliveries', without], [`${pending} pending`, withDeliveries]] as const) {
  console.log(`| ${name} | ${Math.round(median(runs.map((run) => run.submit)))} | ${median(runs.map((run) => run.submitP99))} | ${Math.round(median(runs.map((run) => run.poll)))} | ${median(runs.map((run) => run.pollP99))} |`);
}
const submitRatio = median(withDeliveries.map((run) => run.submit)) / median(without.map((run) => run.submit));
const pollRatio = median(withDeliveries.map((run) => run.poll)) / median(without.map((run) => run.poll));
console.log(`\nwith / without: submit ${(100 * submitRatio).toFixed(0)}%, poll ${(100 * pollRatio).toFixed(0)}% (target ≥ 90%)`);
