import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError } from '../../src/spec/api-error.js';
import type { ModelId } from '../../src/models/model.js';
import { modelIds } from '../../src/models/registry.js';
import type { Engine, EngineJob, EngineOperation, EngineStatus, StatusContext } from '../../src/spec/engine.js';

export interface FakeEngineOptions {
  /** How long a render takes. */
  renderMs?: number;
  /** Makes every job fail with this error once its render time is up. */
  failWith?: ApiError;
  capacity?: number;
  /** Another name, for routes of several fake engines. */
  name?: string;
  /** Thrown by `start`: EngineUnavailable to have the task offered to the next engine. */
  refuseWith?: Error;
  /** Behave like a cloud: a handed-back task is left running, for another process to resume. */
  survivesRestart?: boolean;
  /** The models it carries out; every model by default. */
  models?: readonly ModelId[];
}

/**
 * An engine that pretends to render: it writes a small file after `renderMs`. It records every
 * start so tests can count them and measure dispatch latency.
 */
export class FakeEngine implements Engine {
  readonly name: string;
  readonly kind = 'fake';
  readonly models: readonly ModelId[];
  readonly capacity: number;
  readonly survivesRestart: boolean;
  readonly starts: { taskId: string; at: number }[] = [];
  readonly cancelled: string[] = [];
  /** The most renders that were running at once. */
  mostAtOnce = 0;
  private readonly renders = new Map<string, { finishesAt: number; job: EngineJob }>();

  constructor(private readonly options: FakeEngineOptions = {}) {
    this.name = options.name ?? 'fake';
    this.models = options.models ?? modelIds;
    this.capacity = options.capacity ?? 256;
    this.survivesRestart = options.survivesRestart ?? false;
  }

  async start(job: EngineJob): Promise<EngineOperation> {
    this.starts.push({ taskId: job.taskId, at: Date.now() });
    if (this.options.refuseWith) throw this.options.refuseWith;
    const id = `${job.taskId}:${this.starts.length}`;
    this.renders.set(id, { finishesAt: Date.now() + (this.options.renderMs ?? 0), job });
    const now = Date.now();
    const atOnce = [...this.renders.values()].filter((render) => render.finishesAt > now).length;
    this.mostAtOnce = Math.max(this.mostAtOnce, atOnce);
    return { render: id };
  }

  /** The file goes to the asking attempt's workDir: after a hand-back, that of the attempt that resumed. */
  async status(operation: EngineOperation, context: StatusContext): Promise<EngineStatus> {
    const render = this.renders.get(operation.render as string);
    if (!render) return { state: 'lost' };
    const left = render.finishesAt - Date.now();
    if (left > 0) {
      const total = this.options.renderMs ?? 1;
      return { state: 'running', progressPercent: Math.floor((100 * (total - left)) / total), etaSeconds: Math.ceil(left / 1000), nextCheckMs: 20 };
    }
    if (this.options.failWith) return { state: 'failed', error: this.options.failWith };
    const file = path.join(context.workDir, 'out.mp4');
    await writeFile(file, `video of ${render.job.taskId} seed ${render.job.seed}`);
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
