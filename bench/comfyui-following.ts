/**
 * Following prompts on one ComfyUI host, in process: the ComfyUI engine against a fake host on
 * loopback that runs every prompt at once and reports it as ComfyUI does (`execution_start`,
 * `executing`, `progress` × steps, `execution_success`, then the history).
 *
 * 1. Tasks followed per second over the host's one websocket: N prompts running at once at the
 *    host, each for 40 sampler steps of `step-ms`, from submission to the MP4 copied home, each
 *    followed as the worker does (status, then `changed` until the next check), every step
 *    reported. Baseline in the same run: the same tasks followed by HTTP checks only (the host
 *    refuses the websocket), every 500 ms, which sees a tenth of the steps.
 * 2. Memory per in-flight task: M prompts held running at the host, each followed, against
 *    the same process before; heap after a full GC.
 *
 *   npm run bench:comfyui [-- --tasks 1000 --step-ms 50 --held 5000]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { WebSocketServer, type WebSocket } from 'ws';
import { ComfyUiEngine } from '../src/engines/comfyui/comfyui-engine.js';
import { defaultWorkflowDirectory, loadWorkflow, variants } from '../src/engines/comfyui/comfyui-workflow.js';
import { wan14bProfile } from '../src/engines/open-wan/wan-profile.js';
import { PollScheduler } from '../src/engines/upstream/poll-scheduler.js';
import { resolveFfmpeg } from '../src/media/ffmpeg-binaries.js';
import { modelIds } from '../src/models/registry.js';
import { validateRequest } from '../src/models/validate-request.js';
import { modelById } from '../src/models/registry.js';
import type { EngineJob, EngineOperation } from '../src/spec/engine.js';

const { values } = parseArgs({
  options: { tasks: { type: 'string', default: '1000' }, 'step-ms': { type: 'string', default: '50' }, held: { type: 'string', default: '5000' } },
});
const taskCount = Number(values.tasks);
/** Sampler steps of each of the workflow's two samplers. */
const steps = 20;
const stepMs = Number(values['step-ms']);
const heldCount = Number(values.held);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc (npm run bench:comfyui does)');
const work = await mkdtemp(path.join(tmpdir(), 'wan-bench-comfyui-'));
const video = Buffer.alloc(64 * 1024, 1);

/** A fake ComfyUI host: runs each prompt at once (or holds it), reports it to its client's socket. */
function fakeHost({ websocket, hold }: { websocket: boolean; hold: boolean }) {
  const sockets = new Map<string, WebSocket>();
  const history = new Map<string, unknown>();
  const running = new Set<string>();
  let httpRequests = 0;
  let held = 0;
  const send = (client: string, type: string, data: Record<string, unknown>) => sockets.get(client)?.send(JSON.stringify({ type, data }));
  async function run(promptId: string, client: string, prompt: Record<string, { class_type: string }>) {
    running.add(promptId);
    send(client, 'execution_start', { prompt_id: promptId, timestamp: Date.now() });
    for (const [id, node] of Object.entries(prompt)) {
      send(client, 'executing', { node: id, prompt_id: promptId });
      if (!/sampler/i.test(node.class_type)) continue;
      for (let value = 1; value <= steps; value++) {
        await new Promise((resolve) => setTimeout(resolve, stepMs));
        send(client, 'progress', { value, max: steps, node: id, prompt_id: promptId });
      }
      if (hold) {
        held++;
        return;
      }
    }
    send(client, 'execution_success', { prompt_id: promptId });
    running.delete(promptId);
    history.set(promptId, {
      outputs: { '14': { images: [{ filename: `${promptId}.mp4`, subfolder: 'wan-api', type: 'output' }], animated: [true] } },
      status: { status_str: 'success', completed: true, messages: [] },
    });
  }
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    httpRequests++;
    const chunks: Buffer[] = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://host');
      const json = (body: unknown) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (url.pathname === '/prompt') {
        const body = JSON.parse(Buffer.concat(chunks).toString());
        json({ prompt_id: body.prompt_id, number: 0, node_errors: {} });
        void run(body.prompt_id, body.client_id, body.prompt);
        return;
      }
      if (url.pathname.startsWith('/history/')) {
        const id = url.pathname.slice('/history/'.length);
        return json(history.has(id) ? { [id]: history.get(id) } : {});
      }
      if (url.pathname === '/queue') return json({ queue_running: [...running].map((id) => [0, id, {}, {}, []]), queue_pending: [] });
      if (url.pathname === '/view') return response.writeHead(200, { 'content-type': 'video/mp4' }).end(video);
      response.writeHead(404).end();
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (request, socket, head) => {
    if (!websocket) return socket.destroy();
    wss.handleUpgrade(request, socket, head, (ws) => sockets.set(new URL(request.url ?? '/', 'http://host').searchParams.get('clientId') ?? '', ws));
  });
  return {
    listen: () => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))),
    requests: () => httpRequests,
    held: () => held,
    close: () => {
      for (const socket of wss.clients) socket.terminate();
      server.closeAllConnections();
      server.close();
    },
  };
}

const toolchain = await resolveFfmpeg();
const workflows = { t2v: loadWorkflow('t2v', path.join(defaultWorkflowDirectory, variants.t2v.file)) };
const request = validateRequest(modelById('wan2.7-t2v'), { prompt: 'a lighthouse', size: '1280*720', duration: 5 });

function engineFor(baseUrl: string, pollMs: number): ComfyUiEngine {
  return new ComfyUiEngine({
    name: 'comfy',
    baseUrl,
    capacity: Math.max(taskCount, heldCount),
    models: modelIds,
    workflows,
    profile: wan14bProfile,
    toolchain,
    downloadResult: async (url, file) => void (await writeFile(file, Buffer.from(await (await fetch(url)).arrayBuffer()))),
    poll: { initialMs: pollMs, maxMs: pollMs, jitter: 0 },
    scheduler: new PollScheduler(),
  });
}

/** Follows one task as the worker does; resolves when it ended. */
async function follow(engine: ComfyUiEngine, operation: EngineOperation, workDir: string, onUpdate: () => void = () => {}): Promise<void> {
  let last = -1;
  for (;;) {
    const status = await engine.status(operation, { workDir });
    if (status.state === 'failed') throw new Error(status.error.message);
    if (status.state !== 'running') return;
    if (status.progressPercent !== last) onUpdate();
    last = status.progressPercent;
    await engine.changed(operation, status.nextCheckMs ?? 1000);
  }
}

async function jobs(count: number): Promise<EngineJob[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, index) => ({
      taskId: `bench-${index}`,
      model: 'wan2.7-t2v' as const,
      request,
      seed: index,
      media: {},
      workDir: await mkdtemp(path.join(work, 'job-')),
    })),
  );
}

interface Throughput {
  perSecond: number;
  requestsPerTask: number;
  /** Progress reports a task's follower saw change. */
  updatesPerTask: number;
  cpuMsPerTask: number;
}

async function throughput(websocket: boolean): Promise<Throughput> {
  const host = fakeHost({ websocket, hold: false });
  const engine = engineFor(await host.listen(), 500);
  const batch = await jobs(taskCount);
  let updates = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(batch.map(async (job) => follow(engine, await engine.start(job), job.workDir, () => updates++)));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const result = {
    perSecond: taskCount / seconds,
    requestsPerTask: host.requests() / taskCount,
    updatesPerTask: updates / taskCount,
    cpuMsPerTask: (used.user + used.system) / 1000 / taskCount,
  };
  await engine.close();
  host.close();
  return result;
}

async function memoryPerTask(): Promise<{ bytesPerTask: number; heapMb: number }> {
  const host = fakeHost({ websocket: true, hold: true });
  const engine = engineFor(await host.listen(), 2000);
  const batch = await jobs(heldCount);
  gc!();
  const before = process.memoryUsage().heapUsed;
  const following: Promise<void>[] = [];
  // Submitted 64 at a time, as a busy worker would.
  for (let index = 0; index < batch.length; index += 64) {
    const operations = await Promise.all(batch.slice(index, index + 64).map((job) => engine.start(job)));
    operations.forEach((operation, offset) => following.push(follow(engine, operation, batch[index + offset].workDir)));
  }
  // Every prompt has reported its steps and waits at the host.
  while (host.held() < heldCount) await new Promise((resolve) => setTimeout(resolve, 50));
  // The last events reach the engine.
  await new Promise((resolve) => setTimeout(resolve, 500));
  gc!();
  const after = process.memoryUsage().heapUsed;
  if (engine.following.prompts !== heldCount) throw new Error(`${engine.following.prompts} prompts followed, not ${heldCount}`);
  await engine.close();
  host.close();
  // The follow loops end with the process.
  void following;
  return { bytesPerTask: (after - before) / heldCount, heapMb: after / 1024 / 1024 };
}

try {
  const sockets = await throughput(true);
  const polling = await throughput(false);
  const memory = await memoryPerTask();
  console.log(`\nComfyUI engine, one fake host on loopback, ${taskCount} t2v prompts at once, 2 × ${steps} steps of ${stepMs} ms (${process.version})\n`);
  console.log('| following | tasks per second | progress updates per task | HTTP requests per task | CPU per task |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  const row = (name: string, run: Throughput) =>
    console.log(`| ${name} | ${run.perSecond.toFixed(0)} | ${run.updatesPerTask.toFixed(1)} | ${run.requestsPerTask.toFixed(1)} | ${run.cpuMsPerTask.toFixed(2)} ms |`);
  row('one websocket', sockets);
  row('HTTP checks every 500 ms (baseline)', polling);
  console.log(
    `\nwebsocket / polling: ${(sockets.perSecond / polling.perSecond).toFixed(2)}× the tasks per second, ` +
      `${polling.updatesPerTask === 0 ? 'progress updates where polling saw none' : `${(sockets.updatesPerTask / polling.updatesPerTask).toFixed(1)}× the progress updates`}, ` +
      `${(polling.requestsPerTask / sockets.requestsPerTask).toFixed(1)}× fewer HTTP requests`,
  );
  console.log(`memory per in-flight task (${heldCount} held, each followed): ${(memory.bytesPerTask / 1024).toFixed(2)} kB of heap (heap ${memory.heapMb.toFixed(0)} MB)`);
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await rm(work, { recursive: true, force: true });
  // The loops following the held prompts would go on checking a host that is gone.
  process.exit();
}
