import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { allowedCpus } from '../../media/cpu-scheduling.js';
import type { FfmpegToolchain } from '../../media/ffmpeg-binaries.js';
import type { Engine, EngineJob, EngineOperation, EngineStatus, StatusContext } from '../../spec/engine.js';
import { models } from '../../models/registry.js';
import { defaultEncoderSettings, type EncoderSettings } from './ffmpeg-arguments.js';
import { RenderCpus } from './render-cpus.js';
import type { RenderPriority } from './render-priority.js';
import { RenderRun, type RenderSettings } from './render-run.js';
import { findWatermarkFont } from './watermark.js';

export interface PreviewEngineOptions {
  toolchain: FfmpegToolchain;
  /** Frames per second of every output; 24 by default. */
  frameRate?: number;
  /** Overrides of the x264 settings (preset `ultrafast`, crf 23, 4 threads). */
  encoder?: Partial<EncoderSettings>;
  /**
   * Font of the watermark's letters and the t2v caption. Unset: a common system font if one is
   * installed; `null`: none, the badge is drawn with boxes only and there is no caption (the same
   * pixels on every machine).
   */
  watermarkFontFile?: string | null;
  /**
   * How long an ended render's status is kept for the worker to read; after that it is `lost`,
   * as is every render of an earlier process.
   */
  keepEndedMs?: number;
  /**
   * A render whose ffmpeg has not moved on for this long is stopped and fails (a hung ffmpeg would
   * hold its task for ever). Default 60 s: a render moves every fraction of a second.
   */
  stallTimeoutMs?: number;
  /** Renders at once in this process; each takes about a core. Default 2. */
  capacity?: number;
  /** How renders share the CPU with the API (`render_priority`); `idle` by default. */
  priority?: RenderPriority;
  /**
   * CPUs, and filter and decoder threads, of each render (`render_threads`). Unset or 0: the
   * CPUs but one divided among `rendersAtOnce` (see `render-cpus.ts`).
   */
  renderThreads?: number;
  /** How many renders may run at once, which the thread budget divides the CPUs by; default `capacity`. */
  rendersAtOnce?: number;
}

/** The operation saved on the task row: which render of this engine, by id. */
type PreviewOperation = {
  engine: 'preview';
  renderId: string;
};

const defaultFrameRate = 24;
const defaultKeepEndedMs = 10 * 60_000;
const defaultStallTimeoutMs = 60_000;
const renderIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Every filter the renderer may use; all are in ffmpeg 4.1 and later builds with the usual
 * libraries (`drawtext` is optional: without it there are no letters, see `watermarkFontFile`).
 */
export const requiredFilters = [
  'geq', 'zoompan', 'overlay', 'drawbox', 'fade', 'edgedetect', 'colorchannelmixer', 'vignette', 'lutrgb',
  'boxblur', 'hue', 'eq', 'negate', 'colorbalance', 'tpad', 'fps', 'trim', 'setsar', 'scale', 'crop', 'format',
  'split', 'reverse', 'loop', 'settb', 'setpts', 'color', 'adelay', 'amix', 'anoisesrc', 'anullsrc', 'apad', 'atrim',
  'asetpts', 'aformat', 'tremolo', 'afade', 'sine', 'volume',
] as const;

/**
 * The local renderer: draws a stand-in video with ffmpeg that has every property of the real
 * output (size, length, frame rate, audio or none, watermark) and depends only on the request
 * and seed. Renders live and die with this process: the status of a render is known only to
 * the process that started it, so after a restart every render is `lost` and the worker starts
 * it again (its work directory, with any file in it, is removed when the attempt ends).
 */
export class PreviewEngine implements Engine {
  readonly name = 'preview';
  readonly kind = 'preview';
  /** Every model: the renderer draws each of them. */
  readonly models = models.map((model) => model.id);
  readonly capacity: number;
  readonly survivesRestart = false;
  private readonly renders = new Map<string, RenderRun>();
  private readonly settings: RenderSettings;
  private readonly keepEndedMs: number;

  constructor(options: PreviewEngineOptions) {
    if (!options.toolchain.hasEncoder('libx264')) {
      throw new Error(`the preview engine needs an ffmpeg with libx264; "${options.toolchain.ffmpegPath}" has none`);
    }
    const missing = requiredFilters.filter((name) => !options.toolchain.hasFilter(name));
    if (missing.length > 0) {
      throw new Error(`the preview engine needs the ffmpeg filters ${missing.join(', ')}; "${options.toolchain.ffmpegPath}" lacks them`);
    }
    const capacity = options.capacity ?? 2;
    this.settings = {
      toolchain: options.toolchain,
      frameRate: options.frameRate ?? defaultFrameRate,
      encoder: { ...defaultEncoderSettings, ...options.encoder },
      // Letters need drawtext (libfreetype), which not every build has: without it, boxes only.
      watermarkFontFile: !options.toolchain.hasFilter('drawtext')
        ? Promise.resolve(undefined)
        : options.watermarkFontFile === undefined
          ? findWatermarkFont()
          : Promise.resolve(options.watermarkFontFile ?? undefined),
      stallTimeoutMs: options.stallTimeoutMs ?? defaultStallTimeoutMs,
      priority: options.priority ?? 'idle',
      cpus: new RenderCpus(allowedCpus(), options.rendersAtOnce ?? capacity, options.renderThreads),
    };
    this.keepEndedMs = options.keepEndedMs ?? defaultKeepEndedMs;
    this.capacity = capacity;
  }

  async start(job: EngineJob): Promise<EngineOperation> {
    const renderId = randomUUID();
    const run = new RenderRun(job, outputPath(job, renderId), this.settings);
    this.renders.set(renderId, run);
    void run.finished.then(() => setTimeout(() => this.renders.delete(renderId), this.keepEndedMs).unref());
    const operation: PreviewOperation = { engine: 'preview', renderId };
    return operation;
  }

  /** Only the operation is needed: it names a render of this process, or nothing it knows. */
  async status(operation: EngineOperation, _context: StatusContext): Promise<EngineStatus> {
    return this.runOf(operation)?.status() ?? { state: 'lost' };
  }

  async changed(operation: EngineOperation, timeoutMs: number): Promise<void> {
    await this.runOf(operation)?.changed(timeoutMs);
  }

  async cancel(operation: EngineOperation): Promise<void> {
    await this.runOf(operation)?.cancel();
  }

  /** Cancels every render still running (ffmpeg killed, partial files removed); for shutdown. */
  async close(): Promise<void> {
    await Promise.all([...this.renders.values()].map((run) => run.cancel()));
  }

  private runOf(operation: EngineOperation): RenderRun | undefined {
    const renderId = renderIdOf(operation);
    return renderId === undefined ? undefined : this.renders.get(renderId);
  }
}

/** The finished file of a render; the id is a UUID, so the name never leaves `workDir`. */
function outputPath(job: { workDir: string }, renderId: string): string {
  return path.join(job.workDir, `preview-${renderId}.mp4`);
}

/** The render id of an operation this engine made, or undefined for anything else. */
function renderIdOf(operation: EngineOperation): string | undefined {
  const { engine, renderId } = (operation ?? {}) as Partial<PreviewOperation>;
  return engine === 'preview' && typeof renderId === 'string' && renderIdPattern.test(renderId) ? renderId : undefined;
}
