/**
 * What the metrics cost the API: the same built server measured with metrics off (the default)
 * and on (`--metrics-token`: every request timed by route, every store call timed, /metrics
 * scraped every second during the load, far more often than Prometheus would; BENCH_SCRAPE_MS
 * changes that), interleaved in one run on this machine: requests per second, and the CPU time
 * each server process spent per request (read from /proc). Then, in this process, the two costs
 * a request pays: one observation of a per-request histogram, and the timing wrapper around a
 * store call. Run with `npm run bench:metrics` (it builds first).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { Histogram, Registry } from 'prom-client';
import { HotHistogram } from '../src/metrics/hot-histogram.js';
import { StoreMetrics } from '../src/metrics/store-metrics.js';
import type { Store } from '../src/spec/store.js';
import { percentile, serverWithTask, type ServerWithTask, submitBody } from './processes.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
/** Each endpoint is measured this many times on each server, interleaved; medians are reported. */
const rounds = Number(process.env.BENCH_ROUNDS ?? 6);
const token = 'bench-metrics-token';
/** How often the server with metrics is scraped during its runs; Prometheus's default is every 60 s. */
const scrapeEveryMs = Number(process.env.BENCH_SCRAPE_MS ?? 1000);

type Deployment = ServerWithTask & { name: string };

async function deploy(name: string, extra: string[]): Promise<Deployment> {
  // No worker: submissions are validated and durably stored, nothing renders during the load.
  return { name, ...(await serverWithTask(['--worker-concurrency', '0', ...extra], submitBody)) };
}

function endpoint(deployment: Deployment, which: 'task result' | 'submit'): autocannon.Options {
  return which === 'task result'
    ? { url: deployment.resultUrl, headers: deployment.headers }
    : { url: `${deployment.url}/v3/async/wan2.7-t2v`, method: 'POST', headers: deployment.headers, body: submitBody };
}

/** Clock ticks per second of the CPU times in /proc/<pid>/stat. */
const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

/** CPU time the process has used, every thread of it, in microseconds. */
function cpuMicros(pid: number): number {
  // The fields after the command name, which is in parentheses and may hold spaces.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const [utime, stime] = [Number(fields[11]), Number(fields[12])];
  return ((utime + stime) / ticksPerSecond) * 1e6;
}

interface Run {
  rps: number;
  p99: number;
  errors: number;
  cpuMicrosPerRequest: number;
}

/** One run against `deployment`; with `scrape`, its /metrics is fetched every `scrapeEveryMs` meanwhile. */
async function load(deployment: Deployment, options: autocannon.Options, scrape: boolean): Promise<Run> {
  const timer = scrape
    ? setInterval(
        () => void fetch(`${deployment.url}/metrics`, { headers: { authorization: `Bearer ${token}` } }).then((response) => response.text()),
        scrapeEveryMs,
      )
    : undefined;
  const cpuBefore = cpuMicros(deployment.pid);
  try {
    const result = await autocannon({ connections, duration: seconds, ...options });
    return {
      rps: result.requests.average,
      p99: result.latency.p99,
      errors: result.errors + result.non2xx,
      cpuMicrosPerRequest: (cpuMicros(deployment.pid) - cpuBefore) / result.requests.total,
    };
  } finally {
    clearInterval(timer);
  }
}

const off = await deploy('metrics off', []);
const on = await deploy('metrics on', ['--metrics-token', token]);
const results: string[] = [];
try {
  for (const which of ['task result', 'submit'] as const) {
    for (const deployment of [off, on]) await autocannon({ connections, duration: 2, ...endpoint(deployment, which) });
    const runs = { off: [] as Run[], on: [] as Run[] };
    for (let round = 0; round < rounds; round++) {
      // Which server goes first alternates: the later run of a round was faster in early runs.
      const measureOff = () => load(off, endpoint(off, which), false);
      const measureOn = () => load(on, endpoint(on, which), true);
      let a, b;
      if (round % 2 === 0) {
        a = await measureOff();
        b = await measureOn();
      } else {
        b = await measureOn();
        a = await measureOff();
      }
      runs.off.push(a);
      runs.on.push(b);
    }
    const median = (list: Run[], field: keyof Run) => percentile(list.map((run) => run[field]), 0.5);
    const [offRps, onRps] = [median(runs.off, 'rps'), median(runs.on, 'rps')];
    const [offCpu, onCpu] = [median(runs.off, 'cpuMicrosPerRequest'), median(runs.on, 'cpuMicrosPerRequest')];
    const errors = [...runs.off, ...runs.on].reduce((sum, run) => sum + run.errors, 0);
    results.push(
      `| ${which} | ${Math.round(offRps)} | ${Math.round(onRps)} | ${((100 * onRps) / offRps).toFixed(1)}% | ` +
        `${offCpu.toFixed(1)} | ${onCpu.toFixed(1)} | ${((100 * offCpu) / onCpu).toFixed(1)}% | ` +
        `${median(runs.off, 'p99')} / ${median(runs.on, 'p99')} | ${errors} |`,
    );
  }
} finally {
  await off.stop();
  await on.stop();
}

console.log(
  `\nmedian of ${rounds} interleaved ${seconds} s runs per server, ${connections} connections, autocannon on the same machine, ` +
    `metrics scraped every ${scrapeEveryMs} ms (${process.version})\n`,
);
console.log('| endpoint | req/s, metrics off | req/s, metrics on | on / off | CPU µs per request, off | on | off / on | p99 ms off / on | errors |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const line of results) console.log(line);
console.log('\ntarget: task result with metrics on ≥ 95% of metrics off (the CPU ratio is the throughput a core-bound server keeps)');

/** Nanoseconds per call of `body`, the median of 5 timed batches after a warm-up batch. */
async function nanosPerCall(calls: number, body: () => unknown): Promise<number> {
  const batches: number[] = [];
  for (let batch = 0; batch < 6; batch++) {
    const began = process.hrtime.bigint();
    for (let call = 0; call < calls; call++) {
      // Awaited only when it answers a promise: a synchronous call is timed without a microtask.
      const answer = body();
      if (answer instanceof Promise) await answer;
    }
    if (batch > 0) batches.push(Number(process.hrtime.bigint() - began) / calls);
  }
  return percentile(batches, 0.5);
}

const registry = new Registry();
const histogram = { labelNames: ['method', 'route', 'status_code'] as const, buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] };
const library = new Histogram({ name: 'bench_library', help: 'bench', ...histogram, labelNames: [...histogram.labelNames], registers: [registry] });
const libraryChild = library.labels('GET', '/v3/async/task-result', '200');
const hot = new HotHistogram({ name: 'bench_hot', help: 'bench', ...histogram, registry });
const libraryObserve = await nanosPerCall(1_000_000, () => libraryChild.observe(0.0004));
const hotObserve = await nanosPerCall(1_000_000, () => hot.of('GET', '/v3/async/task-result', '200').observe(0.0004));
/** A store part answering at once, like a cached snapshot: the wrapper's cost stands alone. */
class Part {
  async getSnapshot(id: string): Promise<string> {
    return id;
  }
}
const parts = Object.fromEntries(['tasks', 'keys', 'webhooks', 'uploads', 'usage', 'retention'].map((name) => [name, new Part()]));
const bare = parts as unknown as { tasks: Part };
const timed = new StoreMetrics(registry).timed(parts as unknown as Store) as unknown as { tasks: Part };
const bareCall = await nanosPerCall(500_000, () => bare.tasks.getSnapshot('t'));
const timedCall = await nanosPerCall(500_000, () => timed.tasks.getSnapshot('t'));
console.log(
  `\nin process: one request observation ${hotObserve.toFixed(0)} ns (prom-client's Histogram: ${libraryObserve.toFixed(0)} ns); ` +
    `a store call ${bareCall.toFixed(0)} ns bare, ${timedCall.toFixed(0)} ns timed (+${(timedCall - bareCall).toFixed(0)} ns)`,
);
