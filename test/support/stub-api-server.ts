import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after } from 'node:test';

/**
 * A scriptable HTTP server on loopback for client tests: each route answers from a script
 * (429 with Retry-After, 503, a reset connection, no answer at all …), and every request is
 * recorded. `enableUploads()` implements the documented upload contract: `POST /v3/uploads` with
 * the file as the raw body, its Content-Type and `x-file-name`, answered by `{"url": …}`.
 */

export interface RecordedRequest {
  method: string;
  /** Path and query. */
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  at: number;
}

export interface StubAnswer {
  status?: number;
  headers?: Record<string, string>;
  json?: unknown;
  body?: string | Buffer;
  /** `reset`: destroy the connection without answering; `hang`: never answer. */
  action?: 'reset' | 'hang';
}

export type StubHandler = (request: RecordedRequest) => StubAnswer | Promise<StubAnswer>;

export interface StubServer {
  url: string;
  requests: RecordedRequest[];
  /** Answers of `METHOD /path` (query ignored), in order; the last one repeats. */
  script(route: string, ...answers: (StubAnswer | StubHandler)[]): void;
  /** Requests to one route. */
  requestsTo(route: string): RecordedRequest[];
  /** Files received by `POST /v3/uploads`, served back at the URL it answered. */
  enableUploads(): Map<string, { name: string; contentType: string; body: Buffer }>;
  close(): Promise<void>;
}

function routeOf(method: string, url: string): string {
  return `${method} ${url.split('?')[0]}`;
}

export async function startStubServer(): Promise<StubServer> {
  const scripts = new Map<string, (StubAnswer | StubHandler)[]>();
  const requests: RecordedRequest[] = [];
  const uploads = new Map<string, { name: string; contentType: string; body: Buffer }>();
  let uploadsEnabled = false;
  let baseUrl = '';

  const server = createServer(async (incoming: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const request: RecordedRequest = {
      method: incoming.method ?? 'GET',
      url: incoming.url ?? '/',
      headers: incoming.headers,
      body: Buffer.concat(chunks),
      at: Date.now(),
    };
    requests.push(request);
    const route = routeOf(request.method, request.url);
    let answer: StubAnswer;
    const queue = scripts.get(route);
    if (queue && queue.length > 0) {
      const next = queue.length > 1 ? queue.shift()! : queue[0];
      answer = typeof next === 'function' ? await next(request) : next;
    } else if (uploadsEnabled && route === 'POST /v3/uploads') {
      const id = randomUUID();
      const name = decodeURIComponent(String(request.headers['x-file-name'] ?? 'upload'));
      uploads.set(id, { name, contentType: String(request.headers['content-type']), body: request.body });
      answer = { json: { url: `${baseUrl}/uploaded/${id}/${encodeURIComponent(name)}` } };
    } else if (uploadsEnabled && request.method === 'GET' && request.url.startsWith('/uploaded/')) {
      const file = uploads.get(request.url.split('/')[2]);
      answer = file ? { headers: { 'content-type': file.contentType }, body: file.body } : { status: 404 };
    } else {
      answer = { status: 404, json: { code: 404, reason: 'API_NOT_FOUND', message: `no API at ${route}`, metadata: {} } };
    }
    if (answer.action === 'reset') {
      incoming.socket.destroy();
      return;
    }
    if (answer.action === 'hang') return;
    const body = answer.json !== undefined ? JSON.stringify(answer.json) : (answer.body ?? '');
    response.writeHead(answer.status ?? 200, {
      ...(answer.json !== undefined ? { 'content-type': 'application/json' } : {}),
      ...answer.headers,
    });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  after(close);
  return {
    url: baseUrl,
    requests,
    script: (route, ...answers) => void scripts.set(route, answers),
    requestsTo: (route) => requests.filter((request) => routeOf(request.method, request.url) === route),
    enableUploads: () => {
      uploadsEnabled = true;
      return uploads;
    },
    close,
  };
}

/** A loopback port where nothing listens (connections are refused). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A Task Result body as the API answers it. */
export function taskResult(
  taskId: string,
  status: string,
  { progress = 0, eta = 0, reason = '', videoUrl, error }: { progress?: number; eta?: number; reason?: string; videoUrl?: string; error?: unknown } = {},
) {
  return {
    task: { task_id: taskId, task_type: 'WAN_2_7_T2V', status, reason, eta, progress_percent: progress },
    images: [],
    videos: videoUrl ? [{ video_url: videoUrl, video_url_ttl: '3600', video_type: 'mp4' }] : [],
    audios: [],
    extra: {
      seed: '1',
      debug_info: { request_info: '', submit_time_ms: '1', execute_time_ms: '', complete_time_ms: '' },
      ...(error ? { error } : {}),
    },
  };
}
