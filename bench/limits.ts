/**
 * What limits cost the hot paths: submission and Task Result throughput of a server with no
 * limits against the same server with limits on, measured in one run, rounds alternating.
 * Limits are set far above the load, so nothing is refused and every request pays for its checks.
 * Run with `npm run bench:limits` (it builds first: the server is measured as users run it).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { listening, percentile, root, serverArgs, startProcess, stop } from './processes.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const never = '100000000';

interface Setup {
  name: string;
  serveArgs: string[];
  keyArgs: string[];
}

const setups: Setup[] = [
  { name: 'limits off', serveArgs: ['--max-queued-tasks', '0'], keyArgs: [] },
  // What a default install does: the cap on queued tasks.
  { name: 'queue cap', serveArgs: ['--max-queued-tasks', never], keyArgs: [] },
  // Plus a requests-per-minute default: every request goes through the rate limiter.
  { name: 'queue cap + rate', serveArgs: ['--max-queued-tasks', never, '--limit-requests-per-minute', never], keyArgs: [] },
  // Every limit on the key: the store also counts the key's tasks in flight, queued and seconds in each insert.
  {
    name: 'every limit',
    serveArgs: ['--max-queued-tasks', never],
    keyArgs: ['--requests-per-minute', never, '--in-flight', never, '--queued', never, '--seconds-per-day', never, '--seconds-per-month', never],
  },
];

interface Running {
  setup: Setup;
  pid: number;
  stop: () => Promise<void>;
  submit: autocannon.Options;
  result: autocannon.Options;
}

async function start(setup: Setup): Promise<Running> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'wan-bench-limits-'));
  const key = execFileSync(process.execPath, ['dist/cli/main.js', 'keys', 'create', ...setup.keyArgs, '--data-dir', dataDir], { cwd: root }).toString().trim();
  // No worker: submissions are validated and durably stored, nothing renders during the load.
  const api = await startProcess(serverArgs(dataDir, ['--worker-concurrency', '0', ...setup.serveArgs]), listening);
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const body = JSON.stringify({ prompt: 'a paper boat drifting down a rainy street', size: '1280*720', duration: 5, seed: 7 });
  const taskId = (await (await fetch(`${api.value}/v3/async/wan2.7-t2v`, { method: 'POST', headers, body })).json()).task_id;
  return {
    setup,
    pid: api.child.pid!,
    stop: async () => {
      await stop(api.child);
      rmSync(dataDir, { recursive: true, force: true });
    },
    submit: { url: `${api.value}/v3/async/wan2.7-t2v`, method: 'POST', headers, body },
    result: { url: `${api.value}/v3/async/task-result?task_id=${taskId}`, headers },
  };
}

/**
 * CPU seconds a process has used, all its threads (the insert thread included): on a machine
 * shared with other work, throughput follows the neighbours' load, CPU time per request much less.
 */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime, fields 14 and 15 of the file, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Round {
  rps: number;
  /** Server CPU per request, in microseconds. */
  cpuMicros: number;
  errors: number;
}

async function measure(pid: number, options: autocannon.Options): Promise<Round> {
  const before = cpuSeconds(pid);
  const result = await autocannon({ connections, duration: seconds, ...options });
  const cpuMicros = ((cpuSeconds(pid) - before) * 1e6) / Math.max(1, result.requests.total);
  return { rps: result.requests.average, cpuMicros, errors: result.errors + result.non2xx };
}

const servers: Running[] = [];
try {
  for (const setup of setups) servers.push(await start(setup));
  for (const server of servers) {
    await autocannon({ connections, duration: 2, ...server.submit });
    await autocannon({ connections, duration: 2, ...server.result });
  }
  const runs = new Map<string, Round[]>();
  const record = (name: string, run: Round) => runs.set(name, [...(runs.get(name) ?? []), run]);
  for (let round = 0; round < rounds; round++) {
    // Alternating, so a neighbour's load on the shared machine falls on every setup alike.
    for (const server of round % 2 ? [...servers].reverse() : servers) {
      record(`${server.setup.name}|submit`, await measure(server.pid, server.submit));
      record(`${server.setup.name}|result`, await measure(server.pid, server.result));
    }
  }
  const median = (name: string, figure: 'rps' | 'cpuMicros') => percentile(runs.get(name)!.map((run) => run[figure]), 0.5);
  const errors = (name: string) => runs.get(name)!.reduce((sum, run) => sum + run.errors, 0);
  const ratio = (value: number, base: number) => `${((100 * value) / base).toFixed(0)}%`;
  console.log(`\nmedian of ${rounds} alternating ${seconds} s rounds, ${connections} connections, SQLite, autocannon on the same machine (${process.version})\n`);
  console.log('| setup | submit req/s | vs off | submit CPU µs/req | vs off | task result req/s | vs off | result CPU µs/req | vs off | errors |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const { name } of setups) {
    const cells = ['submit', 'result'].flatMap((endpoint) => {
      const rps = median(`${name}|${endpoint}`, 'rps');
      const cpu = median(`${name}|${endpoint}`, 'cpuMicros');
      return [
        String(Math.round(rps)),
        ratio(rps, median(`limits off|${endpoint}`, 'rps')),
        String(Math.round(cpu)),
        ratio(cpu, median(`limits off|${endpoint}`, 'cpuMicros')),
      ];
    });
    console.log(`| ${name} | ${cells.join(' | ')} | ${errors(`${name}|submit`) + errors(`${name}|result`)} |`);
  }
  console.log('\ntarget: submit with limits on ≥ 90% of limits off (throughput), ≤ 110% (CPU per request)');
} finally {
  for (const server of servers) await server.stop();
}
