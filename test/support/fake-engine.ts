import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError } from '../../src/spec/api-error.js';
import type { Engine, EngineJob, EngineOperation, EngineStatus } from '../../src/spec/engine.js';

export interface FakeEngineOptions {
  /** How long a render takes. */
  renderMs?: number;
  /** Makes every job fail with this error. */
  failWith?: ApiError;
  capacity?: number;
  /** Another name, for routes of several fake engines. */
  name?: string;
  /** Thrown by `start`: EngineUnavailable to have the task offered to the next engine. */
  refuseWith?: Error;
  /** Behave like a cloud: a handed-back task is left running, for another process to resume. */
  survivesRestart?: boolean;
}

/**
 * An engine that pretends to render: it writes a small file after `renderMs`. It records every
 * start so tests can count them and measure dispatch latency.
 */
export class FakeEngine implements Engine {
  readonly name: string;
  readonly capacity: number;
  readonly survivesRestart: boolean;
  readonly starts: { taskId: string; at: number }[] = [];
  readonly cancelled: string[] = [];
  private readonly renders = new Map<string, { finishesAt: number; job: EngineJob }>();

  constructor(private readonly options: FakeEngineOptions = {}) {
    this.name = options.name ?? 'fake';
    this.capacity = options.capacity ?? 256;
    this.survivesRestart = options.survivesRestart ?? false;
  }

  async start(job: EngineJob): Promise<EngineOperation> {
    this.starts.push({ taskId: job.taskId, at: Date.now() });
    if (this.options.refuseWith) throw this.options.refuseWith;
    const id = `${job.taskId}:${this.starts.length}`;
    this.renders.set(id, { finishesAt: Date.now() + (this.options.renderMs ?? 0), job });
    return { render: id };
  }

  /** The file goes to the asking job's workDir: after a hand-back, that of the attempt that resumed. */
  async status(operation: EngineOperation, job: EngineJob): Promise<EngineStatus> {
    const render = this.renders.get(operation.render as string);
    if (!render) return { state: 'lost' };
    if (this.options.failWith) return { state: 'failed', error: this.options.failWith };
    const left = render.finishesAt - Date.now();
    if (left > 0) {
      const total = this.options.renderMs ?? 1;
      return { state: 'running', progressPercent: Math.floor((100 * (total - left)) / total), etaSeconds: Math.ceil(left / 1000), nextCheckMs: 20 };
    }
    const file = path.join(job.workDir, 'out.mp4');
    await writeFile(file, `video of ${job.taskId} seed ${job.seed}`);
    return { state: 'succeeded', videos: [{ path: file, type: 'mp4' }], extra: { engine: this.name } };
  }

  async changed(operation: EngineOperation, timeoutMs: number): Promise<void> {
    const render = this.renders.get(operation.render as string);
    await sleep(Math.max(0, Math.min(timeoutMs, render ? render.finishesAt - Date.now() : 0)));
  }

  async cancel(operation: EngineOperation): Promise<void> {
    this.cancelled.push(operation.render as string);
    this.renders.delete(operation.render as string);
  }
}
