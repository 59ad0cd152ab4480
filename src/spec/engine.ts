import type { ApiError } from './api-error.js';
import type { MediaKind, ModelId, ModelRequest } from '../models/model.js';

/**
 * The contract between the worker and whatever carries a task out: a local renderer, a cloud
 * that runs Wan 2.7, a GPU host. The worker knows nothing else about an engine.
 *
 * Life of a task on an engine: `start` returns an operation (plain JSON) that the worker saves
 * on the task row before it asks anything else; `status` is then asked with that operation
 * alone, by this process or, after a crash, by another one, until it reports a terminal state.
 * Everything `status` needs (the upstream's id, the expected run time, warnings for the result)
 * goes into the operation: resuming never needs the request's media again. An engine that was
 * started once is never started again for the same attempt unless `status` says the operation
 * is `lost` (a local render whose process died with the server).
 */
export interface Engine {
  /** The instance's name, as routes name it (`preview`, `dashscope`, `gpu-t2v` …). */
  readonly name: string;
  /** The kind of engine it is (`preview`, `dashscope`, `novita`, `openai-videos`, `comfyui`). */
  readonly kind: string;
  /**
   * How many tasks the engine takes at once. For work that lives elsewhere (`survivesRestart`)
   * this is the engine's own limit, held across every process of the cluster; for a local
   * renderer it is what this process's CPU can take.
   */
  readonly capacity: number;
  /**
   * Whether the work goes on without this process: true for a cloud or a GPU host, where another
   * process can resume the saved operation, so a task handed back at shutdown is left running
   * there (and billed once). False for a local render, which dies with the process and is
   * cancelled.
   */
  readonly survivesRestart: boolean;
  /** The models it can carry out; a route that sends it another model is refused at start. */
  readonly models: readonly ModelId[];
  start(job: EngineJob): Promise<EngineOperation>;
  status(operation: EngineOperation, context: StatusContext): Promise<EngineStatus>;
  /**
   * Resolves when the status may have changed, or after `timeoutMs` at the latest. Local engines
   * use it to wake the worker the moment a render ends; engines without it are asked again
   * after the `nextCheckMs` their status suggests.
   */
  changed?(operation: EngineOperation, timeoutMs: number): Promise<void>;
  /** Stops the work if it can; never throws for an operation that already ended. */
  cancel(operation: EngineOperation): Promise<void>;
  /** Releases what the engine holds (processes, connections) when the server stops. */
  close?(): Promise<void>;
}

/**
 * Thrown by `start` when the engine did not accept the task: it could not be reached, timed
 * out, answered 5xx or 429, or said it has no capacity. Nothing was created there, so the worker
 * may offer the task to the next engine of the model's route. Any other error from `start` ends
 * the task, because the engine may have accepted (and billed) it.
 */
export class EngineUnavailable extends Error {
  override name = 'EngineUnavailable';
  constructor(
    readonly engine: string,
    message: string,
    /** How long the engine asked callers to wait (Retry-After), when it said. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** Input media downloaded for the engine, keyed in EngineJob.media by JSON path. */
export interface LocalMedia {
  field: string;
  kind: MediaKind;
  url: string;
  /** Absolute path of the downloaded file; removed by the worker when the task ends. */
  path: string;
}

export interface EngineJob {
  taskId: string;
  model: ModelId;
  /** The validated request with defaults applied. */
  request: ModelRequest;
  /** The seed in force: the request's, or one drawn at submission. */
  seed: number;
  /** Input media by JSON path (`image_url`, `media[0].url`, `media[0].reference_voice` …). */
  media: Record<string, LocalMedia>;
  /** A private scratch directory for this attempt; result files are written here. */
  workDir: string;
}

/** What `status` may use besides the operation: where to put result files, and when to stop. */
export interface StatusContext {
  /** This attempt's scratch directory; a finished video brought home goes here. */
  workDir: string;
  signal?: AbortSignal;
}

/** Plain JSON that lets any process ask about the work later. */
export type EngineOperation = Record<string, unknown>;

export interface ResultVideo {
  /** Absolute path of the finished file, inside the attempt's workDir. */
  path: string;
  type: 'mp4';
}

export type EngineStatus =
  | { state: 'running'; progressPercent: number; etaSeconds: number; nextCheckMs?: number }
  | { state: 'succeeded'; videos: ResultVideo[]; extra: Record<string, unknown> }
  | {
      state: 'failed';
      error: ApiError;
      /** Diagnostics for the operator's log (e.g. the end of ffmpeg's stderr); never shown to clients. */
      detail?: string;
    }
  | { state: 'lost' };
