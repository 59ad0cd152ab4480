import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../spec/api-error.js';
import { jsonContentType } from './json-body-parser.js';

export interface BodyDeadlineOptions {
  /** Time a body has to arrive, before any extension. */
  timeoutSeconds: number;
  /** Each this many bytes received extend the deadline by one second. */
  minBytesPerSecond: number;
}

/** After the 408, how long a client still sending its body may keep the connection. */
const closeGraceMs = 2000;

/**
 * A request body must arrive within `timeoutSeconds`, plus one second for every
 * `minBytesPerSecond` bytes received (Apache's mod_reqtimeout rule): a client that trickles a
 * byte now and then is cut off, while a 100 MB upload on a slow link goes on as long as it keeps
 * that pace. A whole-request limit would have to choose between the two.
 *
 * The deadline is armed when the headers are in and counts the bytes read from the socket, so it
 * also covers bodies that nobody reads (a refused request, a preflight), which Node discards
 * after the answer. A body read before the route is failed with a 408 ApiError, so the answer is
 * the documented body, sent by the error handler; a body still arriving after the answer has
 * started is cut by closing the connection:
 * - a JSON body is buffered by Fastify's body reader (the JSON parser reads it as a string),
 *   which listens for the request stream's errors: the deadline emits the 408 there, and the
 *   reader stops and hands it on. No stream in between: at the hook's time even a body that
 *   came in the headers' packet is not yet in the request's buffer, so a stream would be put
 *   under every submission (a fifth of the main thread's time for one, measured);
 * - a body that a route reads as a stream (an upload) goes through a stream that the deadline
 *   fails: failing the request itself would destroy its connection before the 408 is written.
 *
 * A multipart body is the exception: @fastify/multipart reads the request itself, not the parsed
 * payload, so a stream in between would only hold the request back once its buffer filled. Its
 * route awaits the form through `untilBodyDeadline` instead.
 */
export function installBodyDeadline(app: FastifyInstance, options: BodyDeadlineOptions): void {
  // Declared up front, so that every request object has the same shape (Fastify's advice).
  app.decorateRequest(bodyWatch, null);
  app.addHook('onRequest', (request, reply, done) => {
    if (hasBody(request.raw) && !request.raw.complete) {
      const watch = new BodyWatch(request.raw, () => !reply.raw.headersSent, options);
      (request as WatchedRequest)[bodyWatch] = watch;
      armed.add(watch);
    }
    done();
  });
  app.addHook('preParsing', (request, _reply, payload, done) => {
    const watch = (request as WatchedRequest)[bodyWatch];
    if (!watch || isMultipart(request.raw)) return done(null, payload);
    if (isJson(request.raw)) {
      watch.bufferedByFastify();
      return done(null, payload);
    }
    done(null, watch.readable(payload));
  });
  // A parsed body is in: its watch leaves the set now rather than at the next sweep, which would
  // keep the request and all it holds alive for up to sweepMs (see bodyWatch).
  app.addHook('preValidation', (request, _reply, done) => {
    const watch = (request as WatchedRequest)[bodyWatch];
    if (watch && request.raw.complete) armed.delete(watch);
    done();
  });
}

/**
 * A request's watch, kept on the request itself: it lives exactly as long. Not in a WeakMap: V8's
 * young-generation collections keep every WeakMap entry whose key is young, so each submission's
 * request, reply and socket state survived them and was promoted to the old generation (2.4 MB
 * per collection, which then took 5 to 16 ms instead of 0.5, and a full collection every few
 * seconds; measured with --trace-gc-nvp).
 */
const bodyWatch = Symbol('bodyWatch');
type WatchedRequest = FastifyRequest & { [bodyWatch]: BodyWatch | null };

/** How often the armed deadlines are checked: a deadline passes at most this late. */
const sweepMs = 250;

/**
 * The deadlines of the bodies still arriving, checked together by one timer that runs while
 * there are some: a submission whose body comes a moment after its headers costs a set entry,
 * not a timer armed and cleared, a promise and a `close` listener.
 */
class ArmedDeadlines {
  private readonly watches = new Set<BodyWatch>();
  private timer: NodeJS.Timeout | undefined;

  add(watch: BodyWatch): void {
    this.watches.add(watch);
    this.timer ??= setInterval(() => this.sweep(), sweepMs).unref();
  }

  delete(watch: BodyWatch): void {
    this.watches.delete(watch);
  }

  private sweep(): void {
    const now = performance.now();
    for (const watch of this.watches) if (watch.settled(now)) this.watches.delete(watch);
    if (this.watches.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

const armed = new ArmedDeadlines();

/** `reading` (a route reading the request itself), failed with the 408 when the body's deadline passes first. */
export function untilBodyDeadline<T>(request: FastifyRequest, reading: Promise<T>): Promise<T> {
  const passed = (request as WatchedRequest)[bodyWatch]?.passed;
  if (!passed) return reading;
  return Promise.race([reading, passed.then((error) => Promise.reject(error))]);
}

function isMultipart(raw: IncomingMessage): boolean {
  return /^multipart\//i.test(raw.headers['content-type'] ?? '');
}

/** The JSON media type exactly, parameters aside: the bodies Fastify's body reader buffers (see installJsonBodyParser). */
const jsonType = new RegExp(`^${jsonContentType}\\s*(?:;|$)`, 'i');

function isJson(raw: IncomingMessage): boolean {
  return jsonType.test(raw.headers['content-type'] ?? '');
}

function hasBody(raw: IncomingMessage): boolean {
  return raw.headers['transfer-encoding'] !== undefined || Number(raw.headers['content-length']) > 0;
}

class BodyWatch {
  private readonly startedAt = performance.now();
  private readonly startBytes: number;
  private body?: PassThrough;
  /** Read by Fastify's body reader, which listens for the request stream's errors. */
  private buffered = false;
  private failure?: ApiError;
  private failed?: Promise<ApiError>;
  private pass?: (error: ApiError) => void;

  constructor(
    private readonly raw: IncomingMessage,
    private readonly canAnswer: () => boolean,
    private readonly options: BodyDeadlineOptions,
  ) {
    this.startBytes = raw.socket.bytesRead;
  }

  /**
   * Settles with the 408 when the deadline passes while the answer can still be given; never
   * otherwise. Made when first asked for: only a route that reads the request itself asks.
   */
  get passed(): Promise<ApiError> {
    this.failed ??= new Promise((resolve) => {
      if (this.failure) resolve(this.failure);
      else this.pass = resolve;
    });
    return this.failed;
  }

  /** The body as the route reads it; the deadline fails it with the 408. */
  readable(payload: NodeJS.ReadableStream): PassThrough {
    const body = new PassThrough();
    // Without a listener, failing a stream nobody reads yet would be an uncaught error; whoever
    // reads it later gets the error from the stream itself.
    body.on('error', () => {});
    payload.on('error', (error) => body.destroy(error));
    payload.pipe(body);
    this.body = body;
    return body;
  }

  bufferedByFastify(): void {
    this.buffered = true;
  }

  /** Whether nothing is left to watch at `now`: the body in, the connection gone, or the deadline passed and acted on. */
  settled(now: number): boolean {
    if (this.raw.complete || this.raw.destroyed) return true;
    const received = this.raw.socket.bytesRead - this.startBytes;
    const deadline = this.startedAt + (this.options.timeoutSeconds + received / this.options.minBytesPerSecond) * 1000;
    if (now < deadline) return false;
    // A buffered body's reader listens until it stops reading (the body limit passed, say).
    const beingBuffered = this.buffered && this.raw.listenerCount('error') > 0;
    const readByRoute = beingBuffered || (this.body ? !this.body.destroyed : isMultipart(this.raw));
    if (readByRoute && this.canAnswer()) {
      this.failure = this.timeoutError(received);
      if (beingBuffered) this.raw.emit('error', this.failure);
      this.body?.destroy(this.failure);
      this.pass?.(this.failure);
      // The 408 closes the connection once sent; this covers a route that never reads its body.
      setTimeout(() => this.raw.socket.destroy(), closeGraceMs).unref();
    } else {
      this.raw.socket.destroy();
    }
    return true;
  }

  private timeoutError(received: number): ApiError {
    const { timeoutSeconds, minBytesPerSecond } = this.options;
    return new ApiError(
      408,
      'REQUEST_TIMEOUT',
      `the request body was still arriving after ${Math.round((performance.now() - this.startedAt) / 1000)} s with ${received} bytes received: ` +
        `a body has ${timeoutSeconds} s (request_body_timeout_seconds) plus 1 s for every ${minBytesPerSecond} bytes (request_body_min_bytes_per_second)`,
      { field: 'body', received_bytes: received, limit_seconds: timeoutSeconds, min_bytes_per_second: minBytesPerSecond },
    );
  }
}
