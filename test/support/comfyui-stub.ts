import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocketServer, type WebSocket } from 'ws';
import type { StubAnswer } from './stub-api-server.js';

/**
 * A local stand-in for a ComfyUI host, speaking its documented HTTP and websocket protocol:
 * `POST /upload/image` (multipart) keeps the file in its input folder; `POST /prompt {prompt,
 * client_id, prompt_id}` queues a workflow; prompts run one at a time (or `parallel` of them)
 * and send `execution_start`, `executing`, `progress`, `executed`, `execution_success` /
 * `execution_error` / `execution_interrupted` to the websocket of their client id (`/ws?clientId=`);
 * the history is written just after the success event, as ComfyUI does; `GET /history/{id}`,
 * `GET /queue`, `POST /queue {delete}`, `POST /interrupt {prompt_id}` and `GET /view` work as
 * there. Each prompt's run is scriptable.
 */

export interface ComfyPromptScript {
  /** Progress events of each sampler node. Default 3. */
  steps?: number;
  /** Time of one step. Default 5 ms. */
  stepMs?: number;
  /** Fail at the first sampler with this exception. */
  fail?: { type: string; message: string };
  /** Succeed without any output file (a workflow without SaveVideo). */
  noOutputs?: boolean;
  /** Keep running after the first step until `release(promptId)`. */
  hold?: boolean;
}

export interface RecordedPrompt {
  promptId: string;
  clientId: string;
  prompt: Record<string, { class_type: string; inputs: Record<string, unknown> }>;
}

export interface ComfyStub {
  url: string;
  /** Prompts received and queued, in order. */
  prompts: RecordedPrompt[];
  /** Files received by /upload/image, by "subfolder/name". */
  uploads: Map<string, { type: string; bytes: Buffer }>;
  /** Every request, `METHOD /path`. */
  requests: string[];
  /** Answers of the next /prompt calls, in order; then prompts are queued. */
  answerNextPrompts(...answers: (StubAnswer | 'slow')[]): void;
  /** Answers of the next /upload/image calls. */
  answerNextUploads(...answers: StubAnswer[]): void;
  /** Scripts of the next queued prompts, in order; then the default. */
  scriptNextPrompts(...scripts: ComfyPromptScript[]): void;
  release(promptId: string): void;
  /** Closes every websocket (the engine must reconnect and verify over HTTP). */
  dropSockets(): void;
  /** Forgets the queue and the history, as a restarted ComfyUI does. */
  forgetEverything(): void;
  /** Prompts waiting at their hold (scripted `hold`), running at the host. */
  held(): string[];
  interrupts(): string[];
  deletes(): string[];
  sockets(): number;
  close(): Promise<void>;
}

export interface ComfyStubOptions {
  /** Bytes of every video it "renders". */
  video: Buffer;
  defaultScript?: ComfyPromptScript;
  /** Prompts run at once (ComfyUI runs one). */
  parallel?: number;
  /** When set, every request and the websocket need `Authorization: Bearer <key>` (a proxy in front). */
  apiKey?: string;
  /** Delay of /prompt answers scripted 'slow'. */
  slowMs?: number;
}

interface Job {
  number: number;
  record: RecordedPrompt;
  script: ComfyPromptScript;
  released?: () => void;
  /** Waiting at its hold, after its first sampler step. */
  holding: boolean;
  interrupted: boolean;
}

export async function startComfyStub(options: ComfyStubOptions): Promise<ComfyStub> {
  const prompts: RecordedPrompt[] = [];
  const uploads = new Map<string, { type: string; bytes: Buffer }>();
  const outputs = new Map<string, Buffer>();
  const requests: string[] = [];
  const promptAnswers: (StubAnswer | 'slow')[] = [];
  const uploadAnswers: StubAnswer[] = [];
  const scripts: ComfyPromptScript[] = [];
  const pending: Job[] = [];
  const running = new Map<string, Job>();
  let history: Record<string, unknown> = {};
  const sockets = new Map<string, WebSocket>();
  const interrupts: string[] = [];
  const deletes: string[] = [];
  let number = 0;
  let closed = false;

  const send = (clientId: string, type: string, data: Record<string, unknown>) => {
    const socket = sockets.get(clientId);
    if (socket !== undefined && socket.readyState === socket.OPEN) socket.send(JSON.stringify({ type, data }));
  };

  async function run(job: Job): Promise<void> {
    const { promptId, clientId, prompt } = job.record;
    const steps = job.script.steps ?? 3;
    const stepMs = job.script.stepMs ?? 5;
    const messages: [string, Record<string, unknown>][] = [];
    const event = (type: string, data: Record<string, unknown>) => {
      const full = { ...data, prompt_id: promptId, timestamp: Date.now() };
      messages.push([type, full]);
      send(clientId, type, full);
    };
    event('execution_start', {});
    event('execution_cached', { nodes: [] });
    let saved: { filename: string; subfolder: string; type: string } | undefined;
    // The history of the host that ran it: a restart (forgetEverything) starts another, which never hears of it.
    const ownHistory = history;
    const end = (status: 'success' | 'error') => {
      running.delete(promptId);
      ownHistory[promptId] = {
        prompt: [job.number, promptId, prompt, { client_id: clientId }, []],
        outputs: saved && !job.script.noOutputs ? { [savedNode!]: { images: [saved], animated: [true] } } : {},
        status: { status_str: status, completed: status === 'success', messages },
        meta: {},
      };
    };
    let savedNode: string | undefined;
    for (const id of Object.keys(prompt).sort((a, b) => Number(a) - Number(b))) {
      if (job.interrupted) break;
      const node = prompt[id];
      send(clientId, 'executing', { node: id, display_node: id, prompt_id: promptId });
      if (/sampler/i.test(node.class_type)) {
        if (job.script.fail) {
          event('execution_error', {
            node_id: id,
            node_type: node.class_type,
            executed: [],
            exception_type: job.script.fail.type,
            exception_message: job.script.fail.message,
            traceback: [],
            current_inputs: {},
            current_outputs: [],
          });
          end('error');
          return;
        }
        for (let value = 1; value <= steps && !job.interrupted; value++) {
          await sleep(stepMs);
          send(clientId, 'progress', { value, max: steps, prompt_id: promptId, node: id });
          if (value === 1) socketsFor(clientId)?.send(Buffer.from([0, 0, 0, 1, 0, 0, 0, 2]), { binary: true });
          // An interrupt that came during the step has nothing left to release.
          if (job.script.hold && value === 1 && !job.interrupted) {
            job.holding = true;
            await new Promise<void>((resolve) => (job.released = resolve));
            job.holding = false;
          }
        }
      }
      if (node.class_type === 'SaveVideo') {
        const prefix = String(node.inputs.filename_prefix ?? 'ComfyUI');
        saved = { filename: `${prefix.split('/').pop()}_00001_.mp4`, subfolder: prefix.split('/').slice(0, -1).join('/'), type: 'output' };
        savedNode = id;
        outputs.set(`${saved.subfolder}/${saved.filename}`, options.video);
        send(clientId, 'executed', { node: id, display_node: id, output: { images: [saved], animated: [true] }, prompt_id: promptId });
      }
    }
    if (job.interrupted) {
      event('execution_interrupted', { node_id: '0', node_type: 'KSampler', executed: [] });
      end('error');
      return;
    }
    send(clientId, 'executing', { node: null, prompt_id: promptId });
    event('execution_success', {});
    // ComfyUI writes the history just after the success event.
    await sleep(5);
    end('success');
  }

  const socketsFor = (clientId: string) => sockets.get(clientId);

  function pump(): void {
    while (!closed && running.size < (options.parallel ?? 1) && pending.length > 0) {
      const job = pending.shift()!;
      running.set(job.record.promptId, job);
      void run(job);
    }
  }

  const authorized = (request: IncomingMessage) => options.apiKey === undefined || request.headers.authorization === `Bearer ${options.apiKey}`;

  const server = createServer(async (incoming: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(incoming.url ?? '/', 'http://stub');
    const route = `${incoming.method} ${url.pathname}`;
    requests.push(route);
    const answer = (status: number, json?: unknown, raw?: Buffer) => {
      response.writeHead(status, raw ? { 'content-type': 'video/mp4' } : { 'content-type': 'application/json' });
      response.end(raw ?? JSON.stringify(json ?? {}));
    };
    const scripted = (stub: StubAnswer) => {
      if (stub.action === 'reset') return incoming.socket.destroy();
      if (stub.action === 'hang') return;
      response.writeHead(stub.status ?? 200, { 'content-type': 'application/json', ...stub.headers });
      response.end(stub.json !== undefined ? JSON.stringify(stub.json) : (stub.body ?? ''));
    };
    if (!authorized(incoming)) return answer(401, { error: 'unauthorized' });
    if (route === 'POST /upload/image') {
      const next = uploadAnswers.shift();
      if (next) return scripted(next);
      const form = await new Response(body, { headers: { 'content-type': String(incoming.headers['content-type']) } }).formData();
      const file = form.get('image');
      if (!(file instanceof File)) return answer(400);
      const subfolder = String(form.get('subfolder') ?? '');
      uploads.set(`${subfolder}/${file.name}`, { type: file.type, bytes: Buffer.from(await file.arrayBuffer()) });
      return answer(200, { name: file.name, subfolder, type: String(form.get('type') ?? 'input') });
    }
    if (route === 'POST /prompt') {
      const next = promptAnswers.shift();
      const json = JSON.parse(body.toString());
      const promptId = String(json.prompt_id ?? randomUUID());
      const queue = () => {
        const record: RecordedPrompt = { promptId, clientId: String(json.client_id ?? ''), prompt: json.prompt };
        prompts.push(record);
        pending.push({ number: number++, record, script: scripts.shift() ?? options.defaultScript ?? {}, holding: false, interrupted: false });
        pump();
      };
      if (next === 'slow') {
        // Queued at once, answered too late: the answer may be lost to the caller.
        queue();
        await sleep(options.slowMs ?? 3000);
        return answer(200, { prompt_id: promptId, number, node_errors: {} });
      }
      if (next) return scripted(next);
      for (const [id, node] of Object.entries(json.prompt ?? {})) {
        const missing = JSON.stringify(node).match(/\{\{[a-z_]+\}\}/);
        if (missing) {
          return answer(400, {
            error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: '', extra_info: {} },
            node_errors: { [id]: { errors: [{ type: 'value_not_valid', message: `unbound ${missing[0]}`, details: '' }], class_type: (node as { class_type: string }).class_type } },
          });
        }
      }
      queue();
      return answer(200, { prompt_id: promptId, number, node_errors: {} });
    }
    if (route === 'GET /queue') {
      const row = (job: Job) => [job.number, job.record.promptId, job.record.prompt, { client_id: job.record.clientId }, []];
      return answer(200, { queue_running: [...running.values()].map(row), queue_pending: pending.map(row) });
    }
    if (route === 'POST /queue') {
      const json = JSON.parse(body.toString() || '{}');
      for (const id of json.delete ?? []) {
        deletes.push(id);
        const index = pending.findIndex((job) => job.record.promptId === id);
        if (index >= 0) pending.splice(index, 1);
      }
      return answer(200);
    }
    if (route === 'POST /interrupt') {
      const json = JSON.parse(body.toString() || '{}');
      interrupts.push(json.prompt_id);
      const job = running.get(json.prompt_id);
      if (job) {
        job.interrupted = true;
        job.released?.();
      }
      return answer(200);
    }
    if (url.pathname.startsWith('/history/') && incoming.method === 'GET') {
      const id = decodeURIComponent(url.pathname.slice('/history/'.length));
      return answer(200, history[id] === undefined ? {} : { [id]: history[id] });
    }
    if (route === 'GET /view') {
      const file = outputs.get(`${url.searchParams.get('subfolder') ?? ''}/${url.searchParams.get('filename')}`);
      return file && url.searchParams.get('type') === 'output' ? answer(200, undefined, file) : answer(404);
    }
    answer(404, { error: `no route ${route}` });
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url ?? '/', 'http://stub');
    if (url.pathname !== '/ws' || !authorized(request)) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const clientId = url.searchParams.get('clientId') || randomUUID().replace(/-/g, '');
      sockets.get(clientId)?.close();
      sockets.set(clientId, ws);
      ws.on('close', () => {
        if (sockets.get(clientId) === ws) sockets.delete(clientId);
      });
      ws.send(JSON.stringify({ type: 'status', data: { status: { exec_info: { queue_remaining: pending.length + running.size } }, sid: clientId } }));
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const job of running.values()) job.released?.();
    for (const socket of wss.clients) socket.terminate();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  after(close);
  return {
    url,
    prompts,
    uploads,
    requests,
    answerNextPrompts: (...answers) => void promptAnswers.push(...answers),
    answerNextUploads: (...answers) => void uploadAnswers.push(...answers),
    scriptNextPrompts: (...next) => void scripts.push(...next),
    release: (promptId) => {
      const job = running.get(promptId);
      if (job) job.script.hold = false;
      job?.released?.();
    },
    dropSockets: () => {
      for (const socket of wss.clients) socket.terminate();
    },
    forgetEverything: () => {
      pending.length = 0;
      for (const job of running.values()) {
        job.interrupted = true;
        job.released?.();
      }
      running.clear();
      history = {};
    },
    held: () => [...running.values()].filter((job) => job.holding).map((job) => job.record.promptId),
    interrupts: () => interrupts,
    deletes: () => deletes,
    sockets: () => sockets.size,
    close,
  };
}
