import { type IncomingMessage, STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, errors, invalidRequest } from '../spec/api-error.js';
import { isOpenAiRequest, openAiError } from './routes/openai-videos/openai-errors.js';

/**
 * The one place where failures become responses: every error leaves as the documented body
 * `{code, reason, message, metadata}` with its status (or, under `/v1/`, the OpenAI-compatible
 * API, as OpenAI's error body), whichever layer failed: a route or a
 * hook (the error handler), Fastify's router before any route (`frameworkErrors`), or Node's
 * HTTP parser before Fastify sees a request at all (`clientError`).
 */
export function installErrorHandler(app: FastifyInstance, maxBodyBytes: number): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const apiError = toApiError(error, request, maxBodyBytes);
    if (clientGone(request, error)) {
      // Nobody will read the answer, and the failure is the client's leaving (a stream cut short).
      request.log.debug({ err: error }, 'client went away');
    } else if (apiError.status >= 500 && apiError.status !== 503) {
      // 503 is the drain or a failed readiness probe: expected, and reported by the probe itself.
      request.log.error({ err: error }, 'request failed');
    }
    return sendError(reply, apiError);
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, errors.apiNotFound(request.method, cut(request.url.split('?')[0]))));
}

function clientGone(request: FastifyRequest, error: FastifyError): boolean {
  const socket = request.raw.socket;
  return error.code === 'ERR_STREAM_PREMATURE_CLOSE' || !socket || socket.destroyed || socket.writableEnded;
}

/** Also for hooks that refuse a request before its route runs. */
export function sendError(reply: FastifyReply, apiError: ApiError): FastifyReply {
  // The client is too slow, sends what cannot be read, or the server is leaving: finish with the
  // connection rather than read (and discard) whatever may still come on it.
  if (closesConnection.has(apiError.reason)) reply.header('connection', 'close');
  if (apiError.retryAfterSeconds !== undefined) reply.header('retry-after', String(apiError.retryAfterSeconds));
  // A route may have typed its answer before it failed (a file's video/mp4).
  reply.type('application/json; charset=utf-8');
  if (isOpenAiRequest(reply.request.url)) {
    const answer = openAiError(apiError);
    return reply.code(answer.status).header('x-should-retry', String(answer.retry)).send(answer.body);
  }
  return reply.code(apiError.status).send(apiError.toBody());
}

const closesConnection = new Set(['REQUEST_TIMEOUT', 'MALFORMED_REQUEST', 'SERVICE_UNAVAILABLE']);

function toApiError(error: FastifyError, request: FastifyRequest, maxBodyBytes: number): ApiError {
  if (error instanceof ApiError) return error;
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      const contentLength = request.headers['content-length'];
      return invalidRequest(
        'body',
        `the request body${contentLength ? ` is ${contentLength} bytes and` : ''} exceeds the limit of ${maxBodyBytes} bytes`,
        { limit_bytes: maxBodyBytes, ...(contentLength ? { value: Number(contentLength) } : {}) },
      );
    }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': {
      // Fastify's message is the status text, not the type: name what the client sent.
      const sent = request.headers['content-type'];
      return invalidRequest(
        'Content-Type',
        `Content-Type must be application/json, got ${sent === undefined ? 'none' : JSON.stringify(cut(sent))}`,
        sent === undefined ? {} : { value: cut(sent) },
      );
    }
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return invalidRequest('Content-Length', `Content-Length says ${cut(String(request.headers['content-length']))} bytes, which is not the length of the body`);
  }
  // The client went away in the middle of its body: nobody reads this answer, but it stays a 400.
  if (error.code === 'ECONNRESET') return invalidRequest('body', 'the connection closed before the whole request body arrived');
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) return invalidRequest('body', error.message);
  return errors.internal();
}

/**
 * Fastify's `frameworkErrors`: the router refused the request before any hook ran, for a URL
 * that does not decode (`/v3/files/%E0%A4`).
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const apiError =
    error.code === 'FST_ERR_BAD_URL'
      ? malformedRequest(`the URL ${JSON.stringify(cut(request.raw.url ?? ''))} is not valid: a % must start a valid escape of UTF-8`, { field: 'url' })
      : error.statusCode && error.statusCode >= 400 && error.statusCode < 500
        ? malformedRequest(error.message)
        : errors.internal();
  if (apiError.status >= 500) request.log.error({ err: error }, 'request failed');
  void sendError(reply, apiError);
}

/** What Node's parser reports beside its error codes (`HPE_…`). */
interface ParserError extends Error {
  code?: string;
  reason?: string;
}

export interface ClientErrorLimits {
  headerTimeoutSeconds: number;
  maxHeaderBytes: number;
}

/**
 * Node's `clientError`: the bytes on a connection are not HTTP (a bad request line, header or
 * chunk, conflicting lengths), the headers are too large, or they did not arrive in time. No
 * request exists, so the answer is written on the socket itself, after the answers of the
 * requests that came before the bad bytes on the same connection (pipelined), and the
 * connection closes.
 */
export function clientErrorHandler(limits: ClientErrorLimits): (error: ParserError, socket: Socket) => void {
  return (error, socket) => {
    // Gone, or already answered (the parser reports again if more bytes come meanwhile).
    if (error.code === 'ECONNRESET' || socket.destroyed || socket.writableEnded) return;
    const inFlight = responseOn(socket);
    const inItsBody = inFlight !== undefined && !inFlight.req.complete;
    // Bad bytes in the body of the request being answered: its answer is cut, or replaced by this one.
    if (!socket.writable || (inItsBody && inFlight.headersSent)) {
      socket.destroy();
      return;
    }
    const answer = rawResponse(toClientApiError(error, limits));
    if (inItsBody) endWith(socket, answer);
    else endAfterAnswers(socket, answer);
  };
}

/**
 * Ends the connection with `answer` once the response on it, if any, is finished: a valid
 * request followed by bad bytes keeps its answer. Node may close the connection after that
 * answer itself (a request that asked to close it, or HTTP/1.0), and then nothing follows it.
 */
function endAfterAnswers(socket: Socket, answer: string): void {
  if (socket.destroyed || socket.writableEnded || !socket.writable) return;
  const inFlight = responseOn(socket);
  if (inFlight !== undefined) {
    inFlight.once('finish', () => endAfterAnswers(socket, answer));
    return;
  }
  endWith(socket, answer);
}

function toClientApiError(error: ParserError, limits: ClientErrorLimits): ApiError {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ApiError(
        408,
        'REQUEST_TIMEOUT',
        `the request line and headers did not arrive within ${limits.headerTimeoutSeconds} s (request_header_timeout_seconds)`,
        { limit_seconds: limits.headerTimeoutSeconds },
      );
    case 'HPE_HEADER_OVERFLOW':
      return new ApiError(
        431,
        'REQUEST_HEADERS_TOO_LARGE',
        `the request line and headers exceed the limit of ${limits.maxHeaderBytes} bytes`,
        { limit_bytes: limits.maxHeaderBytes },
      );
    default:
      return malformedRequest(`the request is not valid HTTP/1.1: ${cut(error.reason ?? error.message)}`, {
        ...(error.code ? { parser_error: error.code } : {}),
      });
  }
}

/**
 * Node's `connect`: a proxy's CONNECT never reaches Fastify, and without this answer Node would
 * drop the connection without a word.
 */
export function answerConnect(request: IncomingMessage, socket: Duplex): void {
  const method = request.method ?? 'CONNECT';
  endWith(socket, rawResponse(errors.apiNotFound(method, cut(request.url ?? ''))));
}

/**
 * Node's `checkExpectation`: an `Expect` other than 100-continue, which Node would refuse with
 * an empty 417.
 */
export function answerExpectation(request: IncomingMessage, response: ServerResponse): void {
  const apiError = new ApiError(417, 'EXPECTATION_FAILED', `Expect: ${JSON.stringify(cut(String(request.headers.expect)))} is not supported; only 100-continue is`, {
    field: 'Expect',
  });
  const body = JSON.stringify(apiError.toBody());
  // The body was not asked for: close rather than read it.
  response.writeHead(417, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' }).end(body);
}

/** The response now on the connection: Node moves the next pipelined one there when one finishes. */
function responseOn(socket: Socket): ServerResponse | undefined {
  return (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined;
}

/**
 * Answers and closes. The client may still be sending: closing at once could reset the
 * connection before it reads the answer, so it gets a moment to read it.
 */
function endWith(socket: Duplex, response: string): void {
  socket.end(response);
  setTimeout(() => socket.destroy(), lingerMs).unref();
}

const lingerMs = 1000;

/** Bytes that are not an HTTP request the server can read: a bad URL, header, chunk or length. */
export function malformedRequest(message: string, metadata: Record<string, unknown> = {}): ApiError {
  return new ApiError(400, 'MALFORMED_REQUEST', message, metadata);
}

function rawResponse(apiError: ApiError): string {
  const body = JSON.stringify(apiError.toBody());
  return (
    `HTTP/1.1 ${apiError.status} ${STATUS_CODES[apiError.status]}\r\n` +
    `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/** Client text quoted in a message (a URL, a header) is cut to this many characters. */
const quotedLength = 200;

function cut(text: string): string {
  return text.length > quotedLength ? `${text.slice(0, quotedLength - 1)}…` : text;
}
