import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** One HTTP response as read off the wire. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface RawExchange {
  responses: RawResponse[];
  /** Bytes that did not parse as a response (a server that wrote garbage). */
  rest: string;
  /** Whether the server closed the connection before `timeoutMs`. */
  closed: boolean;
  elapsedMs: number;
}

/**
 * Sends bytes on a fresh TCP connection, as they are (malformed HTTP included), in the given
 * pieces with a pause between them, then reads until the server closes or `timeoutMs` passes.
 */
export async function rawExchange(
  url: string,
  pieces: Buffer[],
  options: {
    pauseMs?: number;
    timeoutMs?: number;
    /** Half-close after sending, as a client with nothing more to say. */
    endAfterSending?: boolean;
    /** Stop reading once this many whole responses arrived, even if the connection stays open. */
    responses?: number;
  } = {},
): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  const started = performance.now();
  const socket = connect({ host: hostname, port: Number(port) });
  const chunks: Buffer[] = [];
  let closed = false;
  let answered: () => void = () => {};
  const enoughAnswers = new Promise<void>((resolve) => (answered = resolve));
  socket.on('data', (chunk) => {
    chunks.push(chunk);
    if (options.responses !== undefined) {
      const { responses, rest } = parseResponses(Buffer.concat(chunks));
      if (responses.length >= options.responses && rest === '') answered();
    }
  });
  socket.on('error', () => {});
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.once('close', () => (closed = true));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  for (const [index, piece] of pieces.entries()) {
    if (closed) break;
    socket.write(piece);
    if (options.pauseMs && index < pieces.length - 1) await sleep(options.pauseMs);
  }
  if (options.endAfterSending) socket.end();
  const timeoutMs = options.timeoutMs ?? 5000;
  await Promise.race([ended, enoughAnswers, sleep(Math.max(0, timeoutMs - (performance.now() - started)))]);
  const wasClosed = closed;
  socket.destroy();
  const { responses, rest } = parseResponses(Buffer.concat(chunks));
  return { responses, rest, closed: wasClosed, elapsedMs: performance.now() - started };
}

/** Responses one after the other, bodies framed by Content-Length or chunked encoding. */
export function parseResponses(bytes: Buffer): { responses: RawResponse[]; rest: string } {
  const responses: RawResponse[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const headerEnd = bytes.indexOf('\r\n\r\n', offset);
    if (headerEnd < 0) break;
    const [statusLine, ...headerLines] = bytes.subarray(offset, headerEnd).toString('latin1').split('\r\n');
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
    if (!match) break;
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    let bodyStart = headerEnd + 4;
    let body: Buffer;
    if (headers['transfer-encoding'] === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = bytes.indexOf('\r\n', bodyStart);
        if (lineEnd < 0) return { responses, rest: bytes.subarray(offset).toString('latin1') };
        const size = Number.parseInt(bytes.subarray(bodyStart, lineEnd).toString('latin1'), 16);
        bodyStart = lineEnd + 2 + size + 2;
        if (size === 0) break;
        parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
      }
      body = Buffer.concat(parts);
    } else {
      const length = Number(headers['content-length'] ?? 0);
      body = bytes.subarray(bodyStart, bodyStart + length);
      bodyStart += length;
    }
    // An interim answer (100 Continue) comes before the real one, which is what counts.
    if (!match[1].startsWith('1')) responses.push({ status: Number(match[1]), headers, body: body.toString('utf8') });
    offset = bodyStart;
  }
  return { responses, rest: bytes.subarray(offset).toString('latin1') };
}

/**
 * Why a response is not an answer of this API: a status of 500 or more, or an error whose body
 * is not exactly `{code, reason, message, metadata}` with `code` equal to the status.
 * Undefined when it is fine.
 */
export function contractViolation(status: number, contentType: string | undefined, body: string, method = 'GET'): string | undefined {
  if (status >= 500) return `status ${status}: ${body.slice(0, 300)}`;
  if (status < 400 || method === 'HEAD') return undefined;
  return errorBodyViolation(status, contentType, body);
}

/** Why an error's body is not exactly `{code, reason, message, metadata}` with `code` equal to the status. */
export function errorBodyViolation(status: number, contentType: string | undefined, body: string): string | undefined {
  if (!contentType?.startsWith('application/json')) return `error ${status} typed ${JSON.stringify(contentType)}: ${body.slice(0, 300)}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return `error ${status} with a body that is not JSON: ${JSON.stringify(body.slice(0, 300))}`;
  }
  const error = parsed as Record<string, unknown>;
  const keys = typeof parsed === 'object' && parsed !== null ? Object.keys(parsed).sort().join(',') : '';
  if (keys !== 'code,message,metadata,reason') return `error ${status} with the fields ${JSON.stringify(keys)}: ${body.slice(0, 300)}`;
  if (error.code !== status) return `error ${status} whose code is ${JSON.stringify(error.code)}`;
  if (typeof error.reason !== 'string' || !/^[A-Z][A-Z0-9_]+$/.test(error.reason)) return `error ${status} with the reason ${JSON.stringify(error.reason)}`;
  if (typeof error.message !== 'string' || error.message === '') return `error ${status} without a message`;
  if (typeof error.metadata !== 'object' || error.metadata === null || Array.isArray(error.metadata)) return `error ${status} whose metadata is not an object`;
  return undefined;
}
