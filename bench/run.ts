/**
 * Throughput and latency of the API against a bare endpoint of the same framework, measured in
 * one run on this machine, plus the dispatch delay from submission to the engine's start.
 * Run with `npm run bench` (it builds first: the server is measured as users run it).
 */
import autocannon from 'autocannon';
import { dispatchDelays, medianRun, percentile, serverWithTask, startBareServer, startServer, stop, submitBody } from './processes.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
/** Each endpoint is measured this many times, interleaved with its baseline; medians are reported. */
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);

interface Measured {
  name: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(name: string, options: autocannon.Options): Promise<Measured> {
  const result = await autocannon({ connections, duration: seconds, ...options });
  return {
    name,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

async function throughput(): Promise<Measured[]> {
  // No worker: submissions are validated and durably stored, nothing renders during the load. No
  // cap on queued tasks either: without a worker the queue only grows, and past the default cap
  // the load would measure refusals, not submissions.
  const api = await serverWithTask(['--worker-concurrency', '0', '--max-queued-tasks', '0'], submitBody);
  const { headers, resultUrl } = api;
  const bare = await startBareServer(47811, await fetch(resultUrl, { headers }));
  const endpoints: [string, autocannon.Options][] = [
    // The bare server is sent the very requests ours is (bare-server.ts).
    ['bare POST', { url: `${bare.value}/v3/async/wan2.7-t2v`, method: 'POST', headers, body: submitBody }],
    ['submit t2v', { url: `${api.url}/v3/async/wan2.7-t2v`, method: 'POST', headers, body: submitBody }],
    ['bare GET', { url: `${bare.value}${resultUrl.slice(api.url.length)}`, headers }],
    ['task result', { url: resultUrl, headers }],
  ];
  try {
    // Warm every endpoint so the JIT is not measured.
    for (const [, options] of endpoints) await autocannon({ connections, ...options, duration: 2 });
    const runs = new Map<string, Measured[]>(endpoints.map(([name]) => [name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const [name, options] of endpoints) runs.get(name)!.push(await load(name, options));
    }
    return endpoints.map(([name]) => medianRun(runs.get(name)!));
  } finally {
    await stop(bare.child);
    await api.stop();
  }
}

/** Submission → engine start, read from the task's own submit and execute times, worker idle. */
async function dispatchLatency(samples: number): Promise<number[]> {
  const api = await startServer(['--worker-concurrency', '1']);
  try {
    return await dispatchDelays(api.url, api.headers, samples);
  } finally {
    await api.stop();
  }
}

const measured = await throughput();
const byName = Object.fromEntries(measured.map((entry) => [entry.name, entry]));
const delays = await dispatchLatency(20);

console.log(`\nmedian of ${rounds} interleaved ${seconds} s runs, ${connections} connections, autocannon on the same machine (${process.version})\n`);
console.log('| endpoint | req/s | p50 ms | p99 ms | errors |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const entry of measured) {
  console.log(`| ${entry.name} | ${Math.round(entry.requestsPerSecond)} | ${entry.p50} | ${entry.p99} | ${entry.errors} |`);
}
const submitRatio = byName['submit t2v'].requestsPerSecond / byName['bare POST'].requestsPerSecond;
const resultRatio = byName['task result'].requestsPerSecond / byName['bare GET'].requestsPerSecond;
console.log(`\nsubmit / bare POST: ${(100 * submitRatio).toFixed(0)}% (target ≥ 40%)`);
console.log(`task result / bare GET: ${(100 * resultRatio).toFixed(0)}% (target ≥ 60%)`);
console.log(
  `dispatch, submit → engine start, idle worker, ${delays.length} tasks: p50 ${percentile(delays, 0.5)} ms, ` +
    `p95 ${percentile(delays, 0.95)} ms, max ${Math.max(...delays)} ms (target < 20 ms)`,
);
