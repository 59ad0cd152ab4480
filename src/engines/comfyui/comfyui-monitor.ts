import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import type { PollScheduler } from '../upstream/poll-scheduler.js';
import type { NodeFailure } from './comfyui-history.js';

/**
 * The one websocket a process keeps to a ComfyUI host (`/ws?clientId=…`), and what it learned
 * of each prompt this process submitted with that client id: ComfyUI sends a prompt's
 * `execution_start`, `executing`, `progress`, `executed`, `execution_success`,
 * `execution_error` and `execution_interrupted` to the client that submitted it, so thousands of
 * prompts are followed over one connection, without a request per check.
 *
 * Events can be missed (the socket drops, the prompt was submitted before it opened): what is
 * known of a prompt is `complete` only while every event since it was last verified over HTTP
 * can have arrived. The engine verifies a prompt whose knowledge is not complete.
 */

export type PromptPhase = 'queued' | 'running' | 'succeeded' | 'failed' | 'interrupted';

export interface PromptKnowledge {
  phase: PromptPhase;
  /** Share of the sampler steps done, 0–1; undefined before any step. */
  fraction?: number;
  /** When execution started (epoch ms), when an event said so. */
  startedAt?: number;
  failure?: NodeFailure;
  /** No event of the prompt can have been missed since `heardAt`. */
  complete: boolean;
  /** When the last event of the prompt arrived, or it was last verified (epoch ms). */
  heardAt: number;
}

interface Followed extends PromptKnowledge {
  /** The sampler nodes, whose steps make the progress, and the share done of each. */
  samplers: readonly string[];
  done: number[];
  waiters: (() => void)[];
}

export interface MonitorOptions {
  /** The host's http(s) URL; the websocket is at `/ws` below it. */
  baseUrl: string;
  /** Sent as a Bearer token (for a proxy in front of ComfyUI). */
  apiKey?: string;
  scheduler: PollScheduler;
  clock: () => number;
  /** Longest wait before reconnecting a dropped socket. Default 30 s. */
  maxReconnectMs?: number;
}

const firstReconnectMs = 500;

/** Why a wait ended early; one object, since building an AbortError per event costs more than the event. */
const woken = new Error('woken by an event');

export class ComfyUiMonitor {
  /** The id prompts are submitted with, so that their events come to this socket. */
  readonly clientId = randomUUID();
  private readonly prompts = new Map<string, Followed>();
  private socket: WebSocket | undefined;
  /** Resolves once the socket being opened is open or closed. */
  private settled: Promise<void> | undefined;
  private openSince: number | undefined;
  private reconnectMs = firstReconnectMs;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Events read, for the benchmark and the tests. */
  eventCount = 0;

  constructor(private readonly options: MonitorOptions) {}

  /** Whether the socket is open now. */
  get connected(): boolean {
    return this.openSince !== undefined;
  }

  get followed(): number {
    return this.prompts.size;
  }

  /** Opens the socket if it is not open or opening. */
  connect(): void {
    if (this.closed || this.socket !== undefined) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const url = new URL(`${this.options.baseUrl.replace(/\/+$/, '')}/ws`);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('clientId', this.clientId);
    const socket = new WebSocket(url, {
      headers: this.options.apiKey === undefined ? {} : { authorization: `Bearer ${this.options.apiKey}` },
      handshakeTimeout: 10_000,
    });
    this.socket = socket;
    this.settled = new Promise((resolve) => {
      socket.once('open', () => resolve());
      socket.once('close', () => resolve());
    });
    socket.on('open', () => {
      this.openSince = this.options.clock();
      this.reconnectMs = firstReconnectMs;
    });
    socket.on('message', (data, isBinary) => {
      // Binary frames are preview images.
      if (!isBinary) this.read(data.toString());
    });
    // 'close' follows every 'error'; an error needs a listener or it would be thrown.
    socket.on('error', () => undefined);
    socket.on('close', () => this.dropped(socket));
  }

  /**
   * Opens the socket if needed and resolves once it is open, or after `timeoutMs` (a host whose
   * socket does not open is still used, followed over HTTP).
   */
  async ready(timeoutMs: number): Promise<void> {
    this.connect();
    if (this.connected || this.settled === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.settled, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs).unref()))]);
    clearTimeout(timer);
  }

  /** A prompt this process submitted with `clientId`; its events are followed from now on. */
  follow(promptId: string, samplers: readonly string[]): void {
    this.prompts.set(promptId, {
      phase: 'queued',
      // Events sent before the socket opened are lost.
      complete: this.connected,
      heardAt: this.options.clock(),
      samplers,
      done: samplers.map(() => 0),
      waiters: [],
    });
    this.connect();
  }

  knowledge(promptId: string): PromptKnowledge | undefined {
    const prompt = this.prompts.get(promptId);
    if (prompt === undefined) return undefined;
    const { phase, fraction, startedAt, failure, complete, heardAt } = prompt;
    return { phase, fraction, startedAt, failure, complete, heardAt };
  }

  /**
   * What a check over HTTP found, started at `checkedAt`: it is complete again if the socket has
   * been open since before the check, so nothing after it can be missed.
   */
  verified(promptId: string, phase: 'queued' | 'running', checkedAt: number): void {
    const prompt = this.prompts.get(promptId);
    if (prompt === undefined) return;
    // An end the events told stands: the history is written just after `execution_success`.
    if (prompt.phase === 'queued' || prompt.phase === 'running') prompt.phase = phase;
    prompt.complete = this.openSince !== undefined && this.openSince <= checkedAt;
    prompt.heardAt = this.options.clock();
  }

  /** Resolves at the prompt's next event (or a drop of the socket), or after `timeoutMs`. */
  async changed(promptId: string, timeoutMs: number): Promise<void> {
    const prompt = this.prompts.get(promptId);
    if (prompt === undefined) return this.options.scheduler.sleep(timeoutMs);
    const stop = new AbortController();
    await new Promise<void>((resolve) => {
      const wake = () => {
        stop.abort(woken);
        resolve();
      };
      prompt.waiters.push(wake);
      this.options.scheduler.sleep(timeoutMs, stop.signal).then(
        () => {
          const index = prompt.waiters.indexOf(wake);
          if (index >= 0) prompt.waiters.splice(index, 1);
          resolve();
        },
        () => undefined,
      );
    });
  }

  forget(promptId: string): void {
    this.wake(this.prompts.get(promptId));
    this.prompts.delete(promptId);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.socket?.terminate();
    for (const prompt of this.prompts.values()) this.wake(prompt);
  }

  private read(text: string): void {
    let message: { type?: unknown; data?: Record<string, unknown> };
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    const data = message.data ?? {};
    const prompt = typeof data.prompt_id === 'string' ? this.prompts.get(data.prompt_id) : undefined;
    if (prompt === undefined) return;
    this.eventCount++;
    prompt.heardAt = this.options.clock();
    switch (message.type) {
      case 'execution_start':
        prompt.phase = 'running';
        prompt.startedAt = typeof data.timestamp === 'number' ? data.timestamp : this.options.clock();
        break;
      case 'executing':
      case 'execution_cached':
      case 'executed':
        if (prompt.phase === 'queued') prompt.phase = 'running';
        prompt.startedAt ??= this.options.clock();
        if (message.type === 'executed') this.stepped(prompt, data.node, 1);
        if (message.type === 'execution_cached' && Array.isArray(data.nodes)) for (const node of data.nodes) this.stepped(prompt, node, 1);
        break;
      case 'progress':
        if (prompt.phase === 'queued') prompt.phase = 'running';
        prompt.startedAt ??= this.options.clock();
        if (typeof data.value === 'number' && typeof data.max === 'number' && data.max > 0) {
          this.stepped(prompt, data.node, Math.min(1, data.value / data.max));
        }
        break;
      case 'execution_success':
        prompt.phase = 'succeeded';
        break;
      case 'execution_error':
        prompt.phase = 'failed';
        prompt.failure = data as NodeFailure;
        break;
      case 'execution_interrupted':
        prompt.phase = 'interrupted';
        break;
      default:
        return;
    }
    this.wake(prompt);
  }

  /** Records the share done of a sampler node; the prompt's fraction is their mean. */
  private stepped(prompt: Followed, node: unknown, share: number): void {
    const index = prompt.samplers.indexOf(String(node));
    if (index < 0) return;
    prompt.done[index] = Math.max(prompt.done[index], share);
    prompt.fraction = prompt.done.reduce((sum, value) => sum + value, 0) / prompt.done.length;
  }

  private wake(prompt: Followed | undefined): void {
    if (prompt === undefined || prompt.waiters.length === 0) return;
    const waiters = prompt.waiters;
    prompt.waiters = [];
    for (const wake of waiters) wake();
  }

  /** The socket closed: what was known may miss events from now on, so each prompt is verified again. */
  private dropped(socket: WebSocket): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    this.openSince = undefined;
    for (const prompt of this.prompts.values()) {
      prompt.complete = false;
      this.wake(prompt);
    }
    if (this.closed || this.prompts.size === 0) return;
    const delay = this.reconnectMs;
    this.reconnectMs = Math.min(this.options.maxReconnectMs ?? 30_000, this.reconnectMs * 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delay).unref();
  }
}
