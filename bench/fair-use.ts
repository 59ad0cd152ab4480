/**
 * Does the API stay responsive while the preview engine renders? The Task Result of a finished
 * task is loaded with autocannon on an idle server, then while two long 1080P renders run in the
 * same server, in alternating rounds; the medians of each are compared. Three servers are measured
 * in the same run: the defaults (render_priority idle, the derived thread budget), the behaviour
 * before them (niceness 10, renders free to use every CPU), so the gain is a ratio, and the
 * defaults without the budget (idle on every CPU).
 * Run with `npm run bench:fair-use` (it builds first: the server is measured as users run it).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { percentile, serverWithTask, type ServerWithTask, submitT2v } from './processes.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
/** The targets, with two renders running. */
const targetP99Ms = 20;
const targetRatio = 0.7;

/**
 * The defaults first and the behaviour before them second (the ratios compare these two); the
 * third takes the thread budget away from the defaults, to show what each of the two does.
 */
const everyCpu = String(availableParallelism());
const variants = [
  { name: 'defaults (idle, derived budget)', flags: [] },
  { name: 'before (niceness 10, every CPU)', flags: ['--render-priority', 'low', '--render-threads', everyCpu] },
  { name: 'idle, every CPU', flags: ['--render-threads', everyCpu] },
];

type Variant = ServerWithTask & { name: string };

const prompt = 'a paper boat drifting down a rainy street';

interface Round {
  requestsPerSecond: number;
  p99: number;
  errors: number;
  /** CPU seconds the renders' ffmpeg processes used per second of the round. */
  renderCpu: number;
  /** The fewest ffmpeg processes seen running at once during the round. */
  fewestRenders: number;
}

/** A server of the variant, with a finished task whose result the load reads. */
async function startVariant(name: string, flags: string[]): Promise<Variant> {
  const server = await serverWithTask(['--worker-concurrency', '2', ...flags], JSON.stringify({ prompt, size: '1280*720', duration: 2, seed: 1 }));
  while ((await (await fetch(server.resultUrl, { headers: server.headers })).json()).task.status !== 'TASK_STATUS_SUCCEED') await sleep(200);
  return { name, ...server };
}

/** The ffmpeg processes `parentPid` runs, with the CPU time (in clock ticks) each has used so far. */
function renders(parentPid: number): Map<number, number> {
  const found = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (stat.includes('(ffmpeg)') && fields[0] !== 'Z' && Number(fields[1]) === parentPid) {
        found.set(Number(entry), Number(fields[14 - 3]) + Number(fields[15 - 3]));
      }
    } catch {
      // It ended while we looked.
    }
  }
  return found;
}

/** Linux counts process CPU time in ticks of 1/100 s (USER_HZ) on every common architecture. */
const ticksPerSecond = 100;

async function measure(server: Variant, withRenders: boolean): Promise<Round> {
  const tasks: string[] = [];
  if (withRenders) {
    // Two 15 s 1080P renders: far longer than a round, so both run for the whole of it.
    for (const seed of [1, 2]) tasks.push(await submitT2v(server.url, server.headers, JSON.stringify({ prompt, size: '1920*1080', duration: 15, seed: 100 + seed })));
    while (renders(server.pid).size < 2) await sleep(20);
  }
  let fewestRenders = renders(server.pid).size;
  const before = renders(server.pid);
  const watch = setInterval(() => (fewestRenders = Math.min(fewestRenders, renders(server.pid).size)), 100);
  const started = performance.now();
  const result = await autocannon({ url: server.resultUrl, headers: server.headers, connections, duration: seconds });
  const elapsed = (performance.now() - started) / 1000;
  clearInterval(watch);
  const after = renders(server.pid);
  const ticks = [...after].reduce((sum, [pid, used]) => sum + used - (before.get(pid) ?? 0), 0);
  for (const taskId of tasks) {
    await fetch(`${server.url}/v3/async/task-cancel`, { method: 'POST', headers: server.headers, body: JSON.stringify({ task_id: taskId }) });
  }
  while (renders(server.pid).size > 0) await sleep(20);
  return {
    requestsPerSecond: result.requests.average,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
    renderCpu: ticks / ticksPerSecond / elapsed,
    fewestRenders,
  };
}

function median(values: number[]): number {
  return percentile(values, 0.5);
}

const load = () => loadavg().map((value) => value.toFixed(2)).join(' ');
const loadAtStart = load();
const servers: Variant[] = [];
try {
  for (const variant of variants) servers.push(await startVariant(variant.name, variant.flags));
  for (const server of servers) await autocannon({ url: server.resultUrl, headers: server.headers, connections, duration: 2 });
  const results = new Map(servers.map((server) => [server, { idle: [] as Round[], loaded: [] as Round[] }]));
  for (let round = 0; round < rounds; round++) {
    // Rotate which server goes first, so a change of the machine's load does not favour one.
    const order = servers.map((_, index) => servers[(index + round) % servers.length]);
    for (const server of order) {
      const idle = await measure(server, false);
      const loaded = await measure(server, true);
      results.get(server)!.idle.push(idle);
      results.get(server)!.loaded.push(loaded);
      console.error(
        `round ${round + 1} ${server.name}: idle ${Math.round(idle.requestsPerSecond)} req/s p99 ${idle.p99} ms; ` +
          `2 renders ${Math.round(loaded.requestsPerSecond)} req/s p99 ${loaded.p99} ms, render CPU ${loaded.renderCpu.toFixed(2)}, ` +
          `fewest renders ${loaded.fewestRenders}, errors ${idle.errors + loaded.errors}; load ${load()}`,
      );
    }
  }

  console.log(
    `\nGET /v3/async/task-result of a finished task, ${connections} connections, ${seconds} s per measurement, ` +
      `medians of ${rounds} alternating rounds; autocannon on the same machine; ${availableParallelism()} CPUs, ` +
      `${process.version}; load average ${loadAtStart} at the start, ${load()} at the end\n`,
  );
  console.log('| renders | idle req/s | idle p99 ms | 2 renders req/s | 2 renders p99 ms | throughput vs idle | render CPU (cores) | fewest renders running |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const summary = servers.map((server) => {
    const { idle, loaded } = results.get(server)!;
    const ratios = loaded.map((entry, index) => entry.requestsPerSecond / idle[index].requestsPerSecond);
    const row = {
      idleRps: median(idle.map((entry) => entry.requestsPerSecond)),
      idleP99: median(idle.map((entry) => entry.p99)),
      loadedRps: median(loaded.map((entry) => entry.requestsPerSecond)),
      loadedP99: median(loaded.map((entry) => entry.p99)),
      ratio: median(ratios),
      renderCpu: median(loaded.map((entry) => entry.renderCpu)),
      fewest: Math.min(...loaded.map((entry) => entry.fewestRenders)),
      errors: [...idle, ...loaded].reduce((sum, entry) => sum + entry.errors, 0),
    };
    console.log(
      `| ${server.name} | ${Math.round(row.idleRps)} | ${row.idleP99} | ${Math.round(row.loadedRps)} | ${row.loadedP99} | ` +
        `${(100 * row.ratio).toFixed(0)}% | ${row.renderCpu.toFixed(2)} | ${row.fewest} |`,
    );
    if (row.errors > 0) console.log(`(${server.name}: ${row.errors} errors or non-2xx answers)`);
    return row;
  });
  const [now, before] = summary;
  console.log(
    `\nwith 2 renders: p99 ${now.loadedP99} ms (target < ${targetP99Ms} ms: ${now.loadedP99 < targetP99Ms ? 'met' : 'missed'}), ` +
      `throughput ${(100 * now.ratio).toFixed(0)}% of idle (target ≥ ${100 * targetRatio}%: ${now.ratio >= targetRatio ? 'met' : 'missed'})`,
  );
  console.log(
    `against before, with 2 renders: p99 ${before.loadedP99} → ${now.loadedP99} ms (× ${(now.loadedP99 / before.loadedP99).toFixed(2)}), ` +
      `throughput vs idle ${(100 * before.ratio).toFixed(0)}% → ${(100 * now.ratio).toFixed(0)}% (× ${(now.ratio / before.ratio).toFixed(2)}), ` +
      `render CPU ${before.renderCpu.toFixed(2)} → ${now.renderCpu.toFixed(2)} cores`,
  );
} finally {
  for (const server of servers) await server.stop();
}
